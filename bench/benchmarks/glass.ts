/**
 * Glass-to-glass latency: the painter (an X client in the server's virtual desktop) paints Date.now()
 * as a block pattern at ~240 Hz; headless Chromium reads the clock back from every displayed frame
 * (requestVideoFrameCallback + canvas) and subtracts it from its own clock (same machine).
 */
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { VirtualDesktop } from '../../src/desktop/index.js';
import { describePipeline } from '../../src/media/index.js';
import type { FrameSample } from '../page/agent.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { agentPage, chromiumPids } from '../lib/browser.js';
import { clockDelta } from '../lib/pattern.js';
import { OUT, ROOT } from '../lib/paths.js';
import { CpuSampler, workerPids } from '../lib/proc.js';
import { startBenchServer, type BenchServer } from '../lib/server.js';
import { median, num, sleep, summarize, type Summary } from '../lib/stats.js';
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
  // Run as root, the server runs the painter as an unprivileged user: it may write its log, not the folder.
  writeFileSync(logFile, '');
  chmodSync(logFile, 0o666);
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

export interface ProbeRun {
  variant: 'src' | 'videorate' | 'direct';
  chain: string;
  fps: number;
  frames: number;
  latency: Summary;
}

/** The capture part of the chain src/media builds for an X display: every element before videoconvert. */
export function srcCaptureChain(display: string, fps: number): string[] {
  const { launch } = describePipeline(
    { kind: 'video', source: { kind: 'x11', display }, codec: 'H264', width: 1280, height: 720, framerate: fps, bitrateKbps: 2500 },
    { port: 9, ssrc: 1 },
  );
  const elements = launch.split(' ! ');
  return elements.slice(0, elements.findIndex((e) => e.startsWith('videoconvert')));
}

/**
 * The capture stage alone (capture-probe.ts): painted → I420 frame out of the capture chain and videoconvert,
 * read back from an appsink — for the chain src builds today and two references: videorate in its default
 * mode (which holds each frame until the next) and no videorate at all.
 */
export async function probeCapture(ctx: BenchContext, rates: number[], ms: number): Promise<ProbeRun[]> {
  const desktop = new VirtualDesktop({ width: 1280, height: 720, app: painterApp('', 240) });
  await desktop.start();
  const runs: ProbeRun[] = [];
  try {
    await sleep(1000);
    const display = desktop.display;
    const source = `ximagesrc display-name=${display} use-damage=false show-pointer=true`;
    for (const fps of rates) {
      const rate = `video/x-raw,framerate=${fps}/1`;
      const variants: [ProbeRun['variant'], string[]][] = [
        ['src', srcCaptureChain(display, fps)],
        ['videorate', [source, 'videorate', rate]],
        ['direct', [source, rate]],
      ];
      for (const [variant, chain] of variants) {
        ctx.log(`capture probe ${variant} ${fps} fps`);
        const out = await new Promise<string>((resolve, reject) =>
          execFile(process.execPath, [`${ROOT}dist/bench/capture-probe.js`, display, '1280', '720', String(ms), JSON.stringify(chain)], { timeout: ms + 15_000 }, (err, stdout) =>
            err ? reject(err) : resolve(stdout),
          ),
        );
        const r = JSON.parse(out.trim().split('\n').pop()!) as { samples: number[]; frames: number };
        runs.push({ variant, chain: chain.slice(1).join(' ! ').replace(display, ':N'), fps, frames: r.frames, latency: summarize(r.samples) });
      }
    }
  } finally {
    await desktop.stop();
  }
  return runs;
}

interface GlassRun {
  codec: string;
  fps: number;
  sessions: number;
  /** Each session's own median (the spread between sessions). */
  sessionP50: number[];
  frames: number;
  readable: number;
  /** Readable frames showing the same clock as the readable frame before them (a repeated capture). */
  repeated: number;
  presentedFps: number;
  /** Frames Chromium decoded per second (getStats), against those it presented. */
  decodedFps: number;
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

interface GlassSession {
  frames: FrameSample[];
  inbound: InboundDelta | null;
  seconds: number;
  painter: PainterLog;
  cpu: { server: number; worker: number; chromium: number; machine: number };
}

/** One server, one page: the frames presented over `measureMs`, after a settling time. */
async function glassSession(ctx: BenchContext, codec: string, fps: number, measureMs: number): Promise<GlassSession> {
  const logFile = `${OUT}/painter-glass-${codec}-${fps}.jsonl`;
  const server = await painterServer(fps, logFile);
  const page = await agentPage(await ctx.browser(), server.url);
  try {
    await page.evaluate((url) => window.agent.connect(url), server.wsUrl);
    await page.evaluate((c) => window.agent.join(c, false), codec);
    await sleep(ctx.quick ? 500 : 2000); // the jitter buffer settles after the first frames
    const before = await page.evaluate(() => window.agent.inboundVideo());
    await page.evaluate(() => window.agent.startFrames());
    const sampler = new CpuSampler({ server: () => [server.pid], worker: () => workerPids(server.pid), chromium: chromiumPids }).start();
    await sleep(measureMs);
    const cpu = sampler.stop();
    const frames = (await page.evaluate(() => window.agent.stopFrames())) as FrameSample[];
    const after = await page.evaluate(() => window.agent.inboundVideo());
    return {
      frames,
      inbound: inboundDelta(before, after),
      seconds: cpu.seconds,
      painter: readPainterLog(logFile),
      cpu: {
        server: cpu.groups.server!.cpuPercent,
        worker: cpu.groups.worker!.cpuPercent,
        chromium: cpu.groups.chromium!.cpuPercent,
        machine: cpu.machinePercent,
      },
    };
  } finally {
    await page.close().catch(() => undefined);
    await server.stop();
  }
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function mergeSessions(codec: string, fps: number, sessions: GlassSession[]): GlassRun {
  const glass: number[] = [];
  const toReceive: number[] = [];
  const inBrowser: number[] = [];
  const sessionP50: number[] = [];
  let frames = 0;
  let readableCount = 0;
  let repeated = 0;
  let decoded = 0;
  let seconds = 0;
  let presentedRate = 0;
  for (const s of sessions) {
    const readable = s.frames.filter((f) => f.painted !== null);
    const g = readable.map((f) => clockDelta(f.presented, f.painted!));
    glass.push(...g);
    sessionP50.push(summarize(g).p50);
    toReceive.push(...readable.filter((f) => f.received !== null).map((f) => clockDelta(f.received!, f.painted!)));
    inBrowser.push(...s.frames.filter((f) => f.received !== null).map((f) => f.presented - f.received!));
    frames += s.frames.length;
    readableCount += readable.length;
    repeated += readable.filter((f, i) => i > 0 && f.painted === readable[i - 1]!.painted).length;
    decoded += s.inbound?.framesDecoded ?? 0;
    seconds += s.seconds;
    const span = s.frames.length > 1 ? (s.frames.at(-1)!.presented - s.frames[0]!.presented) / 1000 : NaN;
    presentedRate += (s.frames.length - 1) / span / sessions.length;
  }
  const inb = sessions.map((s) => s.inbound).filter((x): x is InboundDelta => x !== null);
  const avg = (k: keyof InboundDelta): number => mean(inb.map((x) => x[k]));
  return {
    codec,
    fps,
    sessions: sessions.length,
    sessionP50,
    frames,
    readable: readableCount,
    repeated,
    presentedFps: presentedRate,
    decodedFps: decoded / seconds,
    glass: summarize(glass),
    toReceive: summarize(toReceive),
    inBrowser: summarize(inBrowser),
    samples: glass,
    painter: {
      rateHz: median(sessions.map((s) => s.painter.rateHz.p50)),
      syncMs: summarize(sessions.flatMap((s) => [s.painter.syncMs.p50])),
    },
    inbound: inb.length
      ? {
          framesDecoded: decoded,
          framesDropped: inb.reduce((a, x) => a + x.framesDropped, 0),
          jitterBufferMs: avg('jitterBufferMs'),
          decodeMs: avg('decodeMs'),
          processingMs: avg('processingMs'),
          assemblyMs: avg('assemblyMs'),
          nacks: inb.reduce((a, x) => a + x.nacks, 0),
          plis: inb.reduce((a, x) => a + x.plis, 0),
          packetsLost: inb.reduce((a, x) => a + x.packetsLost, 0),
        }
      : null,
    cpu: {
      server: mean(sessions.map((s) => s.cpu.server)),
      worker: mean(sessions.map((s) => s.cpu.worker)),
      chromium: mean(sessions.map((s) => s.cpu.chromium)),
      machine: mean(sessions.map((s) => s.cpu.machine)),
    },
  };
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
  const measureMs = ctx.quick ? 2000 : 6000;
  const sessions = ctx.quick ? 1 : 3;
  const probes = await probeCapture(ctx, ctx.quick ? [30] : [30, 60], ctx.quick ? 1000 : 4000);
  const browser = await ctx.browser();
  // Sessions interleave the configurations; each starts its own server, so the capture clock's phase
  // against the browser's compositor differs from session to session (it moves the median by ~10 ms).
  const collected = new Map<string, GlassSession[]>();
  for (let i = 0; i < sessions; i++) {
    for (const { codec, fps } of configs) {
      ctx.log(`glass-to-glass ${codec} 720p${fps}, session ${i + 1}/${sessions}`);
      const key = `${codec}/${fps}`;
      collected.set(key, [...(collected.get(key) ?? []), await glassSession(ctx, codec, fps, measureMs)]);
    }
  }
  void browser;
  const runs: GlassRun[] = configs.map(({ codec, fps }) => mergeSessions(codec, fps, collected.get(`${codec}/${fps}`) ?? []));

  const target30 = runs.filter((r) => r.fps === 30).map((r) => r.glass.p50);
  const rows = runs.map(
    (r) =>
      `| ${r.codec} | 720p${r.fps} | **${num(r.glass.p50)}** | ${r.sessionP50.map((v) => num(v)).join(', ')} | ${num(r.glass.p95)} | ${num(r.glass.min)}–${num(r.glass.max)} | ${num(r.toReceive.p50)} | ${num(r.inBrowser.p50)} | ${num(r.inbound?.jitterBufferMs)} | ${num(r.inbound?.decodeMs)} | ${r.readable}/${r.frames} | ${r.repeated} | ${num(r.decodedFps)} / ${num(r.presentedFps)} |`,
  );
  const painterRate = summarize(runs.map((r) => r.painter.rateHz)).p50;
  const painterSync = summarize(runs.map((r) => r.painter.syncMs.p50)).p50;
  const markdown = [
    `The painter paints \`Date.now()\` at ${num(painterRate, 0)} Hz (measured); a frame captured at instant *c* shows a value painted`,
    `on average half a paint period (${num(500 / painterRate)} ms) plus the X server's processing (paint → round trip, median ${num(painterSync, 2)} ms) before *c*:`,
    `that much of each figure is the painter's own lag, not the stream's.`,
    `${runs[0]?.sessions ?? 0} sessions per configuration (each its own server), interleaved; p50/p95 over all their frames. Browser side split with rVFC \`receiveTime\` (last packet of the frame received).`,
    '',
    '| codec | mode | p50 ms | per-session p50 | p95 ms | min–max | painted → received p50 | received → presented p50 | jitter buffer ms/frame | decode ms/frame | frames read | repeated | decoded / presented fps |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Where the median goes (ms; the capture chain from the probe below, browser figures from getStats):',
    '',
    '| run | painter (½ paint period + X) | capture chain + convert (src) | encode → server → last packet in browser | jitter buffer + decode | render to presentation | sum | measured p50 |',
    '|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => {
      const c = probes.find((p) => p.fps === r.fps && p.variant === 'src')?.latency.p50 ?? NaN;
      const painterLag = 500 / r.painter.rateHz + r.painter.syncMs.p50;
      const dec = r.inbound?.processingMs ?? NaN;
      // The probe's figure already contains the painter's lag.
      const parts = [painterLag, c - painterLag, r.toReceive.p50 - c, dec, r.inBrowser.p50 - dec];
      return `| ${r.codec} 720p${r.fps} | ${parts.map((x) => num(x)).join(' | ')} | ${num(parts.reduce((a, b) => a + b, 0))} | ${num(r.glass.p50)} |`;
    }),
    '',
    'Capture stage alone, same painter, no server: painted → I420 frame out of the capture chain and `videoconvert` into an appsink',
    "(bench/capture-probe.ts): the chain src/media/pipeline-description.ts builds (taken from `describePipeline`), and two references.",
    '',
    '| capture chain after ximagesrc | fps | frames | painted → converted frame p50 ms | p10–p90 |',
    '|---|---|---|---|---|',
    ...probes.map((p) => `| ${p.variant === 'src' ? '**src today**: ' : p.variant === 'videorate' ? 'reference, videorate default mode: ' : 'reference, no videorate: '}\`${p.chain || '(none)'}\` | ${p.fps} | ${p.frames} | **${num(p.latency.p50)}** | ${num(p.latency.p10)}–${num(p.latency.p90)} |`),
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
    figures: { runs: runs.map(({ samples: _s, ...r }) => r), probes },
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

