/**
 * Input injection: (1) X11InputInjector in this process against an independent observer X client on
 * a private Xvfb, as test/input does — per-event latency (call → observer receives the event) and a
 * 1 kHz stream of moves; (2) the same 1 kHz stream end to end, from headless Chromium through the SDK
 * (WebRTC data channel) and the server into the virtual desktop, while that browser plays the stream.
 */
import { VirtualDesktop } from '../../src/desktop/index.js';
import { X11InputInjector, type X11PeerInput } from '../../src/input/index.js';
import { Observer } from '../../test/helpers/x-observer.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { agentPage } from '../lib/browser.js';
import { CpuSampler, workerPids } from '../lib/proc.js';
import { health, startBenchServer } from '../lib/server.js';
import { num, sleep, summarize, type Summary } from '../lib/stats.js';

const W = 1280;
const H = 720;

interface StreamFigures {
  sent: number;
  sendMs: number;
  injected: number | null;
  coalesced: number | null;
  seen: number;
  drainMs: number;
  latency: Summary | null;
  lastPositionOk: boolean;
  cpu: Record<string, number>;
}

async function micro(ctx: BenchContext): Promise<{ move: Summary; key: Summary; stream: StreamFigures }> {
  const desktop = new VirtualDesktop({ width: W, height: H, app: null });
  await desktop.start();
  const injector = await X11InputInjector.create({ display: desktop.display });
  const observer = await Observer.open(desktop.display);
  try {
    const peer = injector.forPeer('bench') as X11PeerInput;
    const settle = async (): Promise<void> => {
      await injector.flush();
      await observer.settle();
    };
    await settle();
    const moves: number[] = [];
    const nMoves = ctx.quick ? 50 : 1000;
    for (let i = 0; i < nMoves; i++) {
      const x = 100 + (i % 2) * 50;
      const seen = observer.next((e) => e.type === 'motion' && e.x === x);
      const t0 = performance.now();
      peer.mouseMove({ x, y: 100 });
      moves.push((await seen).at - t0);
    }
    const keys: number[] = [];
    const nKeys = ctx.quick ? 20 : 300;
    for (let i = 0; i < nKeys; i++) {
      const seen = observer.next((e) => e.type === 'key-down');
      const t0 = performance.now();
      peer.key({ key: 'k', code: 'KeyK' });
      keys.push((await seen).at - t0);
    }
    await settle();
    observer.clear();
    // 1 kHz for 5 s (quick: 0.5 s): every move that is due, on a 1 ms timer (not a busy loop, so the CPU figure means something).
    const total = ctx.quick ? 500 : 5000;
    const before = injector.stats();
    const sampler = new CpuSampler({ bench: () => [process.pid] }).start();
    const start = performance.now();
    const sentAt: number[] = [];
    while (sentAt.length < total) {
      const due = Math.min(total, Math.floor(performance.now() - start) + 1);
      while (sentAt.length < due) {
        const i = sentAt.length;
        sentAt.push(performance.now());
        peer.mouseMove({ x: i % W, y: 10 + Math.floor(i / W) });
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const sendMs = performance.now() - start;
    const d0 = performance.now();
    await settle();
    const drainMs = performance.now() - d0;
    const cpu = sampler.stop();
    const after = injector.stats();
    const last = total - 1;
    const p = await observer.pointer();
    const motions = observer.events.filter((e) => e.type === 'motion');
    const lat = motions.map((e) => e.at - (sentAt[(e.y - 10) * W + e.x] ?? NaN)).filter((v) => Number.isFinite(v));
    return {
      move: summarize(moves),
      key: summarize(keys),
      stream: {
        sent: total,
        sendMs,
        injected: after.events - before.events,
        coalesced: after.movesCoalesced - before.movesCoalesced,
        seen: motions.length,
        drainMs,
        latency: summarize(lat),
        lastPositionOk: p.x === last % W && p.y === 10 + Math.floor(last / W),
        cpu: { 'bench process (injector + observer)': cpu.groups.bench!.cpuPercent },
      },
    };
  } finally {
    await injector.close();
    await observer.close();
    await desktop.stop();
  }
}

async function endToEnd(ctx: BenchContext): Promise<StreamFigures & { dataChannel: boolean }> {
  const server = await startBenchServer(['--source', 'virtual', '--resolution', `${W}x${H}`, '--framerate', '30', '--input', 'all', '--app', 'sleep 100000']);
  const browser = await ctx.browser();
  const page = await agentPage(browser, server.url);
  let observer: Observer | undefined;
  try {
    const display = (await health(server)).display as string;
    observer = await Observer.open(display);
    await page.evaluate((url) => window.agent.connect(url, 'bench-1khz'), server.wsUrl);
    await page.evaluate(() => window.agent.join('H264', false));
    const dataChannel = await page.evaluate(() => window.agent.waitForDataChannel());
    await sleep(1000);
    observer.clear();
    const total = ctx.quick ? 500 : 5000;
    const sampler = new CpuSampler({ server: () => [server.pid], encoder: () => workerPids(server.pid) }).start();
    const offset = Date.now() - performance.now();
    const t0 = performance.now();
    const sent = (await page.evaluate(([n, w]) => window.agent.moveStream(n, 1000, w), [total, W] as const)) as number[];
    const sendMs = performance.now() - t0;
    const last = total - 1;
    const lastX = last % W;
    const lastY = 10 + Math.floor(last / W);
    const d0 = performance.now();
    // Drain: until the observer has seen the last position (or 2 s).
    while (performance.now() - d0 < 2000 && !observer.events.some((e) => e.type === 'motion' && e.x === lastX && e.y === lastY)) await sleep(2);
    const drainMs = performance.now() - d0;
    const cpu = sampler.stop();
    const motions = observer.events.filter((e) => e.type === 'motion');
    const lat = motions.map((e) => e.at + offset - (sent[(e.y - 10) * W + e.x] ?? NaN)).filter((v) => Number.isFinite(v));
    const p = await observer.pointer();
    return {
      dataChannel,
      sent: sent.length,
      sendMs,
      injected: null,
      coalesced: null,
      seen: motions.length,
      drainMs,
      latency: summarize(lat),
      lastPositionOk: p.x === lastX && p.y === lastY,
      cpu: { 'server Node': cpu.groups.server!.cpuPercent, 'encoder worker': cpu.groups.encoder!.cpuPercent },
    };
  } finally {
    await observer?.close();
    await page.close().catch(() => undefined);
    await server.stop();
  }
}

export async function runInjection(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  ctx.log('input injection: injector against an observer');
  const m = await micro(ctx);
  ctx.log('input injection: 1 kHz end to end while streaming');
  const e = await endToEnd(ctx);
  const streamRow = (label: string, s: StreamFigures): string =>
    `| ${label} | ${s.sent} in ${num(s.sendMs, 0)} ms (${num((s.sent / s.sendMs) * 1000, 0)}/s) | ${s.injected ?? '—'} | ${s.coalesced ?? '—'} | ${s.seen} | ${num(s.latency?.p50, 2)} / ${num(s.latency?.p99, 2)} / ${num(s.latency?.max, 1)} | ${num(s.drainMs, 1)} | ${s.lastPositionOk ? 'yes' : 'NO'} | ${Object.entries(s.cpu).map(([k, v]) => `${k} ${num(v)}`).join(', ')} |`;
  const markdown = [
    'Per event, X11InputInjector in the bench process against an independent observer X client (a private Xvfb, as test/input does): call → the observer receives the event.',
    '',
    '| event | n | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|',
    `| mouse-move | ${m.move.n} | **${num(m.move.p50, 3)}** | **${num(m.move.p99, 3)}** | ${num(m.move.max, 2)} |`,
    `| key (press+release) | ${m.key.n} | ${num(m.key.p50, 3)} | ${num(m.key.p99, 3)} | ${num(m.key.max, 2)} |`,
    '',
    `1 kHz mouse-move streams. "end to end": headless Chromium sends them through the SDK (${e.dataChannel ? 'WebRTC data channel' : 'WebSocket — the data channel did not open'}) to the server (\`--source virtual --input all\`) while it plays the desktop's 720p30 H.264 stream; the observer is an X client on the server's display. Latency is per move the observer saw (sent → observed, same clock); moves coalesced under lag are not seen by design.`,
    '',
    '| stream | sent | injected | coalesced | observer saw | latency p50 / p99 / max ms | drain after last ms | pointer ends at last move | CPU % of one core |',
    '|---|---|---|---|---|---|---|---|---|',
    streamRow('injector in-process', m.stream),
    streamRow('end to end (browser → server → X)', e),
  ].join('\n');
  return section(ctx, started, {
    name: 'injection',
    title: 'Input injection',
    markdown,
    charts: [],
    figures: { move: m.move, key: m.key, stream: m.stream, endToEnd: e },
    targets: [
      {
        what: 'Input injection p50 / p99 (mouse-move)',
        target: 'measured (first spike: p99 1.3 ms)',
        measured: `${num(m.move.p50, 3)} / ${num(m.move.p99, 3)} ms`,
        met: null,
      },
      {
        what: '1 kHz moves while streaming, no backlog',
        target: 'all delivered or coalesced, drain < 1 frame',
        measured: `${e.sent} sent, observer saw ${e.seen}, drain ${num(e.drainMs, 1)} ms, p99 ${num(e.latency?.p99, 1)} ms`,
        met: ctx.quick ? null : e.lastPositionOk && e.drainMs < 33,
      },
    ],
  });
}
