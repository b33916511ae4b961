/**
 * Glass-to-glass latency: the painter (an X client in the server's virtual desktop) paints Date.now()
 * as a block pattern at ~240 Hz; headless Chromium reads the clock back from every displayed frame
 * (requestVideoFrameCallback + canvas) and subtracts it from its own clock (same machine).
 */
import { readFileSync } from 'node:fs';
import type { FrameSample } from '../page/agent.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { agentPage, chromiumPids } from '../lib/browser.js';
import { clockDelta } from '../lib/pattern.js';
import { OUT, ROOT } from '../lib/paths.js';
import { CpuSampler, workerPids } from '../lib/proc.js';
import { startBenchServer, type BenchServer } from '../lib/server.js';
import { num, sleep, spread, summarize, type Summary } from '../lib/stats.js';
import { distributionChart } from '../lib/svg.js';

export interface PainterLog {
  rateHz: Summary;
  /** Paint → X server processed it (round trip right after a paint), ms. */
  syncMs: Summary;
  presses: { at: number; x: number; y: number; inside: boolean; colour: number }[];
}

export function readPainterLog(file: string): PainterLog {
  const rates: number[] = [];
  const syncs: number[] = [];
  const presses: PainterLog['presses'] = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* no log */
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as Record<string, number | string | boolean>;
      if (e.t === 'rate') rates.push(e.hz as number);
      if (e.t === 'sync') syncs.push(e.ms as number);
      if (e.t === 'press') presses.push(e as unknown as PainterLog['presses'][number]);
    } catch {
      /* partial line */
    }
  }
  return { rateHz: summarize(rates), syncMs: summarize(syncs), presses };
}

export function painterApp(logFile: string, rate = 240): string {
  return `'${process.execPath}' '${ROOT}dist/bench/painter.js' --rate ${rate} --log '${logFile}'`;
}

/** Starts a server whose virtual desktop runs the painter. */
export function painterServer(framerate: number, logFile: string, extra: string[] = []): Promise<BenchServer> {
  return startBenchServer([
    '--source', 'virtual',
    '--resolution', '1280x720',
    '--framerate', String(framerate),
    '--app', painterApp(logFile),
    ...extra,
  ]);
}

export interface InboundDelta {
  framesDecoded: number;
  framesDropped: number;
  /** Mean jitter-buffer delay per emitted frame, ms. */
  jitterBufferMs: number;
  /** Mean decode time per frame, ms. */
  decodeMs: number;
  /** Mean receive → decoded (totalProcessingDelay), ms. */
  processingMs: number;
  /** Mean first packet → last packet of a frame, ms. */
  assemblyMs: number;
  nacks: number;
  plis: number;
  packetsLost: number;
}

export function inboundDelta(a: Record<string, unknown> | null, b: Record<string, unknown> | null): InboundDelta | null {
  if (!a || !b) return null;
  const d = (k: string): number => ((b[k] as number) ?? 0) - ((a[k] as number) ?? 0);
  const frames = d('framesDecoded');
  return {
    framesDecoded: frames,
    framesDropped: d('framesDropped'),
    jitterBufferMs: (d('jitterBufferDelay') / Math.max(1, d('jitterBufferEmittedCount'))) * 1000,
    decodeMs: (d('totalDecodeTime') / Math.max(1, frames)) * 1000,
    processingMs: (d('totalProcessingDelay') / Math.max(1, frames)) * 1000,
    assemblyMs: (d('totalAssemblyTime') / Math.max(1, d('framesAssembledFromMultiplePackets'))) * 1000,
    nacks: d('nackCount'),
    plis: d('pliCount'),
    packetsLost: d('packetsLost'),
  };
}

interface GlassRun {
  codec: string;
  fps: number;
  frames: number;
  readable: number;
  /** Readable frames showing the same clock as the readable frame before them (a repeated capture). */
  repeated: number;
  presentedFps: number;
  /** presented − painted */
  glass: Summary;
  /** last packet received − painted: capture + encode + packetize + server + network. */
  toReceive: Summary;
  /** presented − received: the browser's jitter buffer, decode and render. */
  inBrowser: Summary;
  samples: number[];
  painter: { rateHz: number; syncMs: Summary };
  inbound: InboundDelta | null;
  cpu: { server: number; worker: number; chromium: number; machine: number };
}

export async function runGlass(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const configs = ctx.quick
    ? [{ codec: 'H264', fps: 30 }]
    : [
        { codec: 'H264', fps: 30 },
        { codec: 'VP8', fps: 30 },
        { codec: 'H264', fps: 60 },
        { codec: 'VP8', fps: 60 },
      ];
  const measureMs = ctx.quick ? 2000 : 12_000;
  const browser = await ctx.browser();
  const runs: GlassRun[] = [];
  for (const { codec, fps } of configs) {
    const logFile = `${OUT}/painter-glass-${codec}-${fps}.jsonl`;
    const server = await painterServer(fps, logFile);
    const page = await agentPage(browser, server.url);
    try {
      ctx.log(`glass-to-glass ${codec} 720p${fps}`);
      await page.evaluate((url) => window.agent.connect(url), server.wsUrl);
      await page.evaluate((c) => window.agent.join(c, false), codec);
      await sleep(ctx.quick ? 500 : 2000); // the jitter buffer settles after the first frames
      const before = await page.evaluate(() => window.agent.inboundVideo());
      await page.evaluate(() => window.agent.startFrames());
      const sampler = new CpuSampler({
        server: () => [server.pid],
        worker: () => workerPids(server.pid),
        chromium: chromiumPids,
      }).start();
      await sleep(measureMs);
      const cpu = sampler.stop();
      const frames = (await page.evaluate(() => window.agent.stopFrames())) as FrameSample[];
      const after = await page.evaluate(() => window.agent.inboundVideo());
      const readable = frames.filter((f) => f.painted !== null);
      const glass = readable.map((f) => clockDelta(f.presented, f.painted!));
      const toReceive = readable.filter((f) => f.received !== null).map((f) => clockDelta(f.received!, f.painted!));
      const inBrowser = frames.filter((f) => f.received !== null).map((f) => f.presented - f.received!);
      const span = frames.length > 1 ? (frames.at(-1)!.presented - frames[0]!.presented) / 1000 : NaN;
      const painter = readPainterLog(logFile);
      runs.push({
        codec,
        fps,
        frames: frames.length,
        readable: readable.length,
        repeated: readable.filter((f, i) => i > 0 && f.painted === readable[i - 1]!.painted).length,
        presentedFps: (frames.length - 1) / span,
        glass: summarize(glass),
        toReceive: summarize(toReceive),
        inBrowser: summarize(inBrowser),
        samples: glass,
        painter: { rateHz: painter.rateHz.p50, syncMs: painter.syncMs },
        inbound: inboundDelta(before, after),
        cpu: {
          server: cpu.groups.server!.cpuPercent,
          worker: cpu.groups.worker!.cpuPercent,
          chromium: cpu.groups.chromium!.cpuPercent,
          machine: cpu.machinePercent,
        },
      });
    } finally {
      await page.close().catch(() => undefined);
      await server.stop();
    }
  }

  const target30 = runs.filter((r) => r.fps === 30).map((r) => r.glass.p50);
  const rows = runs.map(
    (r) =>
      `| ${r.codec} | 720p${r.fps} | ${num(r.glass.p50)} | ${num(r.glass.p95)} | ${num(r.glass.min)}–${num(r.glass.max)} | ${num(r.toReceive.p50)} | ${num(r.inBrowser.p50)} | ${num(r.inbound?.jitterBufferMs)} | ${num(r.inbound?.decodeMs)} | ${r.readable}/${r.frames} | ${r.repeated} | ${num(r.presentedFps)} |`,
  );
  const painterRate = summarize(runs.map((r) => r.painter.rateHz)).p50;
  const painterSync = summarize(runs.map((r) => r.painter.syncMs.p50)).p50;
  const markdown = [
    `The painter paints \`Date.now()\` at ${num(painterRate, 0)} Hz (measured); a frame captured at instant *c* shows a value painted`,
    `on average half a paint period (${num(500 / painterRate)} ms) plus the X server's processing (paint → round trip, median ${num(painterSync, 2)} ms) before *c*:`,
    `that much of each figure is the painter's own lag, not the stream's.`,
    `Browser side split with rVFC \`receiveTime\` (last packet of the frame received).`,
    '',
    '| codec | mode | p50 ms | p95 ms | min–max | painted → received p50 | received → presented p50 | jitter buffer ms/frame | decode ms/frame | frames read | repeated | presented fps |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'CPU during each window (% of one core): ' +
      runs.map((r) => `${r.codec} ${r.fps} fps — server ${num(r.cpu.server)}, encoder ${num(r.cpu.worker)}, Chromium ${num(r.cpu.chromium)}, machine ${num(r.cpu.machine)}`).join('; ') +
      '.',
  ].join('\n');
  const chart = distributionChart({
    title: 'Glass-to-glass latency (painted clock → displayed frame)',
    unit: 'ms',
    series: runs.map((r) => ({ label: `${r.codec} 720p${r.fps}`, samples: r.samples })),
    target: { value: 60, label: 'target p50 < 60 ms (720p30)' },
  });
  return section(ctx, started, {
    name: 'glass',
    title: 'Glass-to-glass latency',
    markdown,
    charts: [{ file: 'glass-to-glass.svg', svg: chart, alt: 'glass-to-glass latency distributions per codec and frame rate' }],
    figures: { runs: runs.map(({ samples: _s, ...r }) => r) },
    targets: [
      {
        what: 'Glass-to-glass p50, 720p30',
        target: '< 60 ms',
        measured: runs.filter((r) => r.fps === 30).map((r) => `${r.codec} ${num(r.glass.p50)} ms`).join(', '),
        met: target30.length ? target30.every((v) => v < 60) : null,
      },
    ],
  });
}

