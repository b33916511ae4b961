/**
 * Fan-out: 1 → 30 viewers of one 720p30 H.264 stream. Viewers are werift peers driven by the client
 * SDK in separate Node processes (fanout-viewers.ts, ≤ 10 each), counting the frames they receive.
 * The server's Node process, its encoder worker and the viewer processes are measured apart
 * (/proc utime+stime over the same window), with the whole machine beside them.
 */
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { Child } from '../lib/child.js';
import { ROOT } from '../lib/paths.js';
import { CpuSampler, workerPids } from '../lib/proc.js';
import { startBenchServer, type BenchServer } from '../lib/server.js';
import { num, sleep, summarize, type Summary } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';

const PER_PROCESS = 10;
const FPS = 30;

interface ViewerReport {
  frames: number;
  packets: number;
  bytes: number;
  lost: number;
  maxFrameGapMs: number;
  state?: string;
}

export interface FanoutStep {
  viewers: number;
  live: number;
  seconds: number;
  serverCpu: number;
  serverCpuSpread: Summary;
  workerCpu: number;
  workerCpuSpread: Summary;
  viewerProcsCpu: number;
  machineCpu: number;
  /** Server Node CPU per viewer, % of a core: (server − server at 1 viewer) / (n − 1) for n > 1. */
  serverRssMiB: number;
  workerRssMiB: number;
  fps: Summary;
  /** Viewers that got ≥ 95 % of the frame rate. */
  held: number;
  kbpsPerViewer: number;
  lost: number;
  maxFrameGapMs: number;
  /** CPU % of the extra process groups the caller asked to be measured (e.g. a Janus), by name. */
  extraCpu: Record<string, number>;
}

export interface FanoutOptions {
  source?: string[];
  codec?: string;
}

export async function measureFanout(
  ctx: BenchContext,
  server: BenchServer,
  counts: number[],
  codec: string,
  warmupMs: number,
  measureMs: number,
  extraGroups: Record<string, () => number[]> = {},
): Promise<FanoutStep[]> {
  const procs: Child[] = [];
  const load: number[] = [];
  const steps: FanoutStep[] = [];
  let total = 0;
  try {
    for (const n of counts) {
      ctx.log(`fan-out: ${n} viewers`);
      // Add viewers to the least loaded process, starting processes as needed.
      const adds = new Map<number, number>();
      while (total < n) {
        let i = load.findIndex((l) => l < PER_PROCESS);
        if (i < 0) {
          procs.push(await Child.start(`${ROOT}dist/bench/fanout-viewers.js`, [server.wsUrl, codec]));
          load.push(0);
          i = procs.length - 1;
        }
        const k = Math.min(PER_PROCESS - load[i]!, n - total);
        load[i]! += k;
        total += k;
        adds.set(i, (adds.get(i) ?? 0) + k);
      }
      const added = await Promise.all([...adds].map(([i, k]) => procs[i]!.request({ cmd: 'add', n: k }, 'added', 120_000)));
      void added;
      await sleep(warmupMs);
      await Promise.all(procs.map((p) => p.request({ cmd: 'start' }, 'started')));
      const sampler = new CpuSampler({
        server: () => [server.pid],
        worker: () => workerPids(server.pid),
        viewers: () => procs.map((p) => p.pid),
        ...extraGroups,
      }).start();
      await sleep(measureMs);
      const cpu = sampler.stop();
      const reports = (await Promise.all(procs.map((p) => p.request({ cmd: 'report' }, 'report')))).flatMap((r) => r.viewers as ViewerReport[]);
      const seconds = cpu.seconds;
      const fps = reports.map((r) => r.frames / seconds);
      steps.push({
        viewers: n,
        live: reports.filter((r) => r.state === 'live').length,
        seconds,
        serverCpu: cpu.groups.server!.cpuPercent,
        serverCpuSpread: cpu.groups.server!.perInterval,
        workerCpu: cpu.groups.worker!.cpuPercent,
        workerCpuSpread: cpu.groups.worker!.perInterval,
        viewerProcsCpu: cpu.groups.viewers!.cpuPercent,
        machineCpu: cpu.machinePercent,
        serverRssMiB: cpu.groups.server!.rssBytes / 2 ** 20,
        workerRssMiB: cpu.groups.worker!.rssBytes / 2 ** 20,
        fps: summarize(fps),
        held: fps.filter((f) => f >= FPS * 0.95).length,
        kbpsPerViewer: summarize(reports.map((r) => (r.bytes * 8) / 1000 / seconds)).p50,
        lost: reports.reduce((a, r) => a + r.lost, 0),
        maxFrameGapMs: Math.max(0, ...reports.map((r) => r.maxFrameGapMs)),
        extraCpu: Object.fromEntries(Object.keys(extraGroups).map((name) => [name, cpu.groups[name]!.cpuPercent])),
      });
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
  return steps;
}

export async function runFanout(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const counts = ctx.quick ? [1, 2] : [1, 5, 10, 20, 30, 50];
  const server = await startBenchServer([
    '--source', 'test', '--resolution', '1280x720', '--framerate', String(FPS), '--bitrate', '2500',
    '--max-peers-per-ip', '1000', '--max-peers', '1000',
  ]);
  let steps: FanoutStep[];
  try {
    steps = await measureFanout(ctx, server, counts, 'H264', ctx.quick ? 1000 : 3000, ctx.quick ? 2000 : 10_000);
  } finally {
    await server.stop();
  }
  const base = steps[0]!;
  const perViewer = (s: FanoutStep): number => (s.viewers > base.viewers ? (s.serverCpu - base.serverCpu) / (s.viewers - base.viewers) : NaN);
  const rows = steps.map(
    (s) =>
      `| ${s.viewers} | ${s.live} | ${num(s.serverCpu)} (${num(s.serverCpuSpread.p10)}–${num(s.serverCpuSpread.p90)}) | ${num(s.serverCpu / s.viewers, 2)} | ${num(perViewer(s), 2)} | ${num(s.workerCpu)} | ${num(s.viewerProcsCpu)} | ${num(s.machineCpu)} | ${num(s.fps.p50)} / ${num(s.fps.min)} | ${s.held}/${s.viewers} | ${num(s.kbpsPerViewer, 0)} | ${s.lost} | ${num(s.maxFrameGapMs, 0)} | ${num(s.serverRssMiB, 0)} |`,
  );
  const best = steps.filter((s) => s.held === s.viewers).map((s) => s.viewers);
  const maxHeld = best.length ? Math.max(...best) : 0;
  const markdown = [
    `Source \`test\` 1280×720 at ${FPS} fps, H.264 at 2500 kbit/s, video only. Viewers: werift peers (the SDK in Node) in`,
    `${Math.ceil(Math.max(...counts) / PER_PROCESS)} separate processes of ≤ ${PER_PROCESS}; they run on the same 2 cores, so their CPU (column "viewer procs")`,
    'is measured and shown but not counted in the server\'s. CPU in % of one core over a fixed window, median per-second spread (p10–p90) in brackets;',
    '"per viewer (marginal)" is the server\'s extra CPU per added viewer against the 1-viewer step. Held = viewers receiving ≥ 95 % of 30 fps.',
    '',
    '| viewers | live | server Node CPU % | server % / viewer | marginal % / viewer | encoder worker CPU % | viewer procs CPU % | machine CPU % | fps median / min | held 30 fps | kbit/s per viewer | packets lost | max frame gap ms | server RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const chart = lineChart({
    title: 'CPU against viewer count (720p30 H.264, one encoder)',
    xLabel: 'viewers',
    yLabel: '% of one core',
    series: [
      { label: 'server Node', points: steps.map((s) => [s.viewers, s.serverCpu] as const), ranges: steps.map((s) => [s.serverCpuSpread.p10, s.serverCpuSpread.p90] as const) },
      { label: 'encoder worker', points: steps.map((s) => [s.viewers, s.workerCpu] as const) },
      { label: 'viewer processes', points: steps.map((s) => [s.viewers, s.viewerProcsCpu] as const), dashed: true },
      { label: 'whole machine', points: steps.map((s) => [s.viewers, s.machineCpu] as const), dashed: true },
    ],
    reference: { value: 200, label: 'both cores' },
  });
  const fpsChart = lineChart({
    title: 'Frames per second received per viewer',
    xLabel: 'viewers',
    yLabel: 'fps',
    series: [
      { label: 'median viewer', points: steps.map((s) => [s.viewers, s.fps.p50] as const) },
      { label: 'slowest viewer', points: steps.map((s) => [s.viewers, s.fps.min] as const) },
    ],
    reference: { value: FPS, label: `${FPS} fps` },
  });
  return section(ctx, started, {
    name: 'fanout',
    title: 'Fan-out: viewers of one stream',
    markdown,
    charts: [
      { file: 'fanout-cpu.svg', svg: chart, alt: 'server, encoder and viewer CPU against viewer count' },
      { file: 'fanout-fps.svg', svg: fpsChart, alt: 'fps per viewer against viewer count' },
    ],
    figures: { steps, maxHeld },
    targets: [
      {
        what: 'Viewers held at 30 fps (one 720p30 stream)',
        target: '≥ 25',
        measured: `${maxHeld} of ${Math.max(...counts)} tried`,
        met: ctx.quick ? null : maxHeld >= 25,
      },
    ],
  });
}
