/**
 * Flood: what one abuser costs everybody else. A good client in its own process pings every 50 ms
 * (signaling-loadgen.ts with one connection) and a headless Chromium viewer plays the 720p30 stream;
 * their pong round trips and decoded frame rate are measured idle, then while 16 connections write
 * malformed frames as fast as TCP takes them (flood-loadgen.ts), and — the floor — under the same flood
 * against the bare `ws` echo server (bare-ws-server.ts), which parses each frame as JSON and nothing more.
 */
import { fork } from 'node:child_process';
import type { Page } from 'playwright-core';
import { agentPage } from '../lib/browser.js';
import { Child } from '../lib/child.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { ROOT } from '../lib/paths.js';
import { CpuSampler } from '../lib/proc.js';
import { startBenchServer } from '../lib/server.js';
import { num, sleep, summarize, type Summary } from '../lib/stats.js';
import { distributionChart } from '../lib/svg.js';

const FLOODERS = 16;
const PING_MS = 50;
const FPS = 30;

interface Timing {
  warmupMs: number;
  measureMs: number;
}

export interface FloodGenerator {
  bytesSent: number;
  framesSent: number;
  connects: number;
  serverCloses: number;
  refused: number;
}

export interface FloodWindow {
  condition: 'idle' | 'flood' | 'bare-flood';
  rtt: Summary;
  pings: number;
  lostPongs: number;
  /** The good client's own event-loop delay p99 (its round trips include it). */
  clientLoopP99Ms: number;
  /** Decoded frames per second at the Chromium viewer (Streamgate only). */
  viewerFps: number | null;
  viewerFramesDropped: number | null;
  serverCpu: number;
  floodCpu: number;
  machineCpu: number;
  seconds: number;
  flood: FloodGenerator | null;
  /** A sample of the round trips for the chart (not stored in results.json). */
  rtts: number[];
}

interface Target {
  pid: number;
  wsUrl: string;
  viewer: Page | null;
}

async function decodedFrames(page: Page | null): Promise<{ decoded: number; dropped: number } | null> {
  if (!page) return null;
  const stats = await page.evaluate(() => window.agent.inboundVideo());
  if (!stats) return null;
  return { decoded: Number(stats.framesDecoded ?? 0), dropped: Number(stats.framesDropped ?? 0) };
}

/** One window: the good client pings, the viewer plays, the flood runs if `flooder` is given. */
async function measureWindow(condition: FloodWindow['condition'], target: Target, good: Child, flooder: Child | null, timing: Timing): Promise<FloodWindow> {
  if (flooder) await flooder.request({ cmd: 'start', n: FLOODERS }, 'started');
  let flooding = flooder !== null;
  try {
    const report = good.request({ cmd: 'run', movers: 0, pingMs: PING_MS, warmupMs: timing.warmupMs, measureMs: timing.measureMs }, 'result', timing.warmupMs + timing.measureMs + 60_000);
    await sleep(timing.warmupMs);
    const sampler = new CpuSampler({ server: () => [target.pid], flood: () => (flooder ? [flooder.pid] : []) }, 500).start();
    const framesBefore = await decodedFrames(target.viewer);
    const result = await report;
    const framesAfter = await decodedFrames(target.viewer);
    const cpu = sampler.stop();
    const flood = flooder ? ((await flooder.request({ cmd: 'stop' }, 'stopped')) as unknown as FloodGenerator) : null;
    flooding = false;
    const rtts = result.rtts as number[];
    const seconds = result.seconds as number;
    return {
      condition,
      rtt: summarize(rtts),
      pings: Math.round((seconds * 1000) / PING_MS),
      lostPongs: result.lostPongs as number,
      clientLoopP99Ms: result.loopDelayP99Ms as number,
      viewerFps: framesBefore && framesAfter ? (framesAfter.decoded - framesBefore.decoded) / cpu.seconds : null,
      viewerFramesDropped: framesBefore && framesAfter ? framesAfter.dropped - framesBefore.dropped : null,
      serverCpu: cpu.groups.server!.cpuPercent,
      floodCpu: cpu.groups.flood!.cpuPercent,
      machineCpu: cpu.machinePercent,
      seconds,
      flood,
      rtts,
    };
  } finally {
    if (flooding) await flooder?.request({ cmd: 'stop' }, 'stopped', 10_000).catch(() => undefined);
  }
}

async function goodClient(wsUrl: string): Promise<Child> {
  const good = await Child.start(`${ROOT}dist/bench/signaling-loadgen.js`, [wsUrl, 'good']);
  const connected = await good.request({ cmd: 'connect', n: 1 }, 'connected', 30_000);
  if (connected.ok !== 1) throw new Error(`the good client could not connect to ${wsUrl}`);
  return good;
}

async function measureStreamgate(ctx: BenchContext, timing: Timing): Promise<FloodWindow[]> {
  const server = await startBenchServer(['--source', 'test', '--resolution', '1280x720', '--framerate', String(FPS)]);
  const children: Child[] = [];
  let viewer: Page | null = null;
  try {
    viewer = await agentPage(await ctx.browser(), server.url);
    await viewer.evaluate((url) => window.agent.connect(url, 'bench-flood-viewer'), server.wsUrl);
    await viewer.evaluate(() => window.agent.join('H264', false));
    const good = await goodClient(server.wsUrl);
    children.push(good);
    const flooder = await Child.start(`${ROOT}dist/bench/flood-loadgen.js`, [server.wsUrl]);
    children.push(flooder);
    const target = { pid: server.pid, wsUrl: server.wsUrl, viewer };
    ctx.log('flood: Streamgate idle');
    const idle = await measureWindow('idle', target, good, null, timing);
    ctx.log(`flood: Streamgate under ${FLOODERS} flooding connections`);
    const flood = await measureWindow('flood', target, good, flooder, timing);
    return [idle, flood];
  } finally {
    await viewer?.close().catch(() => undefined);
    await Promise.all(children.map((c) => c.stop()));
    await server.stop();
  }
}

async function measureBare(ctx: BenchContext, timing: Timing): Promise<FloodWindow> {
  const bare = new Child(fork(`${ROOT}dist/bench/bare-ws-server.js`, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const children: Child[] = [bare];
  try {
    const { port } = (await bare.next('ready', 10_000)) as { port: number };
    const wsUrl = `ws://127.0.0.1:${port}/ws`;
    const good = await goodClient(wsUrl);
    children.push(good);
    const flooder = await Child.start(`${ROOT}dist/bench/flood-loadgen.js`, [wsUrl]);
    children.push(flooder);
    ctx.log('flood: bare ws under the same flood');
    return await measureWindow('bare-flood', { pid: bare.pid, wsUrl, viewer: null }, good, flooder, timing);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

const LABEL: Record<FloodWindow['condition'], string> = {
  idle: 'Streamgate, idle',
  flood: `Streamgate, ${FLOODERS} flooders`,
  'bare-flood': `bare ws, ${FLOODERS} flooders`,
};

export async function runFlood(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const timing: Timing = ctx.quick ? { warmupMs: 500, measureMs: 2500 } : { warmupMs: 2000, measureMs: 10_000 };
  const [idle, flood] = await measureStreamgate(ctx, timing);
  const bare = await measureBare(ctx, timing);
  const windows = [idle!, flood!, bare];
  const rows = windows.map((w) => {
    const f = w.flood;
    const mbps = f ? (f.bytesSent * 8) / 1e6 / w.seconds : NaN;
    return `| ${LABEL[w.condition]} | ${num(w.rtt.p50, 2)} | **${num(w.rtt.p99, 2)}** | ${num(w.rtt.max, 1)} | ${w.rtt.n} / ${w.lostPongs} | ${w.viewerFps === null ? '—' : `**${num(w.viewerFps, 1)}**`} | ${w.viewerFramesDropped ?? '—'} | ${num(w.serverCpu, 0)} | ${f ? `${num(mbps, 0)} Mbit/s, ${num(f.framesSent / w.seconds / 1000, 0)}k frames/s` : '—'} | ${f ? `${f.connects} / ${f.serverCloses}` : '—'} | ${num(w.floodCpu, 0)} | ${num(w.clientLoopP99Ms, 1)} | ${num(w.machineCpu, 0)} |`;
  });
  const ratio = flood!.rtt.p99 / idle!.rtt.p99;
  const held = flood!.viewerFps !== null && flood!.viewerFps >= FPS * 0.95;
  const markdown = [
    `Streamgate (\`--source test\` 1280×720 at ${FPS} fps, default limits: \`--rate-limit 100\`, \`--max-message-size 65536\`) with a headless Chromium viewer`,
    `playing the H.264 stream and a good client in its own process (bench/signaling-loadgen.ts, one connection) pinging every ${PING_MS} ms. Each window runs`,
    `${timing.measureMs / 1000} s after ${timing.warmupMs / 1000} s warm-up: idle, then with ${FLOODERS} connections (bench/flood-loadgen.ts) writing malformed frames`,
    '(broken JSON, arrays, no type, unknown types, bad input fields, binary) as fast as TCP takes them and reconnecting whenever the server closes one;',
    'then the same flood against the bare `ws` server (bench/bare-ws-server.ts), which only parses JSON — the floor. Round trips in ms; CPU in % of one core.',
    '',
    '| condition | pong p50 ms | pong p99 ms | max ms | pongs timed / given up | viewer decoded fps | frames dropped | server CPU % | flood written | flood connections opened / closed by server | flood generator CPU % | good client loop delay p99 ms | machine CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Goal: pong p99 under the flood within 3× of idle and < 20 ms; the viewer holds ${FPS} fps. Measured: p99 ${num(flood!.rtt.p99, 2)} ms under the flood,`,
    `${num(ratio, 1)}× idle (${num(idle!.rtt.p99, 2)} ms), ${flood!.lostPongs} pongs given up; the bare server under the same flood: ${num(bare.rtt.p99, 2)} ms, ${bare.lostPongs} given up.`,
    `Viewer ${num(flood!.viewerFps, 1)} fps under the flood (idle ${num(idle!.viewerFps, 1)}).`,
  ].join('\n');
  const chart = distributionChart({
    title: `Good client's pong round trip, idle and under a ${FLOODERS}-connection flood`,
    unit: 'ms',
    series: windows.map((w) => ({ label: LABEL[w.condition], samples: w.rtts })),
    target: { value: 20, label: 'goal p99 < 20 ms' },
    log: true,
  });
  return section(ctx, started, {
    name: 'flood',
    title: 'Flood: one abuser against everyone else',
    markdown,
    charts: [{ file: 'flood-rtt.svg', svg: chart, alt: 'pong round trips idle, under flood, and bare ws under flood' }],
    figures: { windows: windows.map(({ rtts: _r, ...w }) => w), p99Ratio: ratio },
    targets: [
      {
        what: `Pong p99 under a ${FLOODERS}-connection flood`,
        target: '≤ 3× idle and < 20 ms',
        measured: `${num(flood!.rtt.p99, 2)} ms, ${num(ratio, 1)}× idle, ${flood!.lostPongs} of ${flood!.pings} pongs given up (bare ws ${num(bare.rtt.p99, 2)} ms, ${bare.lostPongs} given up)`,
        met: ctx.quick ? null : ratio <= 3 && flood!.rtt.p99 < 20,
      },
      {
        what: 'Viewer frame rate under the flood',
        target: `${FPS} fps`,
        measured: `${num(flood!.viewerFps, 1)} fps (idle ${num(idle!.viewerFps, 1)})`,
        met: ctx.quick ? null : held,
      },
    ],
  });
}
