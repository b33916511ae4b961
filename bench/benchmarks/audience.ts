/**
 * Audience: the same viewers of one 720p30 H.264 stream served two ways in one run, by the server's own werift
 * fan-out and by Janus (`--janus`, `--max-local-viewers 0`: every viewer on Janus). Viewers are the fan-out
 * benchmark's werift peers (the SDK in Node, fanout-viewers.ts); Janus is a real one on its own configuration
 * (test/helpers/janus-server.ts). The server's Node process, the encoder worker and Janus are measured apart.
 */
import { JanusServer } from '../../test/helpers/janus-server.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { startBenchServer } from '../lib/server.js';
import { num } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';
import { measureFanout, type FanoutStep } from './fanout.js';

const FPS = 30;
const SOURCE = ['--source', 'test', '--resolution', '1280x720', '--framerate', String(FPS), '--bitrate', '2500', '--max-peers-per-ip', '1000', '--max-peers', '1000'];

interface Run {
  mode: 'local' | 'janus';
  steps: FanoutStep[];
}

async function measureLocal(ctx: BenchContext, counts: number[], warmupMs: number, measureMs: number): Promise<Run> {
  ctx.log('audience: local werift fan-out');
  const server = await startBenchServer(SOURCE);
  try {
    return { mode: 'local', steps: await measureFanout(ctx, server, counts, 'H264', warmupMs, measureMs) };
  } finally {
    await server.stop();
  }
}

async function measureJanus(ctx: BenchContext, counts: number[], warmupMs: number, measureMs: number): Promise<Run> {
  ctx.log('audience: every viewer on Janus');
  const janus = await JanusServer.start();
  try {
    const server = await startBenchServer([
      ...SOURCE,
      '--janus', janus.url,
      '--janus-api-secret', janus.apiSecret,
      '--janus-admin-key', janus.adminKey,
      '--max-local-viewers', '0',
    ]);
    try {
      const janusPid = (): number[] => (janus.pid === undefined ? [] : [janus.pid]);
      return { mode: 'janus', steps: await measureFanout(ctx, server, counts, 'H264', warmupMs, measureMs, { janus: janusPid }) };
    } finally {
      await server.stop();
    }
  } finally {
    await janus.dispose();
  }
}

/** Server Node + Janus: what serving the viewers costs, the encoder aside. */
function servingCpu(step: FanoutStep): number {
  return step.serverCpu + (step.extraCpu.janus ?? 0);
}

export async function runAudience(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const counts = ctx.quick ? [2] : [1, 5, 10, 20];
  const [warmupMs, measureMs] = ctx.quick ? [1500, 2000] : [3000, 10_000];
  const runs = [await measureLocal(ctx, counts, warmupMs, measureMs), await measureJanus(ctx, counts, warmupMs, measureMs)];
  const rows = counts.flatMap((n) =>
    runs.map(({ mode, steps }) => {
      const s = steps.find((step) => step.viewers === n)!;
      const janusCpu = s.extraCpu.janus;
      return `| ${n} | ${mode} | ${s.held}/${s.viewers} | ${num(s.fps.p50)} / ${num(s.fps.min)} | ${num(s.serverCpu)} | ${janusCpu === undefined ? '–' : num(janusCpu)} | ${num(servingCpu(s))} | ${num(servingCpu(s) / n, 2)} | ${num(s.workerCpu)} | ${num(s.viewerProcsCpu)} | ${num(s.kbpsPerViewer, 0)} | ${s.lost} | ${num(s.maxFrameGapMs, 0)} |`;
    }),
  );
  const markdown = [
    `Source \`test\` 1280×720 at ${FPS} fps, H.264 at 2500 kbit/s, video only; the same werift viewers (the SDK in Node, ≤ 10 per process)`,
    'served by the server\'s werift fan-out (local) and by Janus\'s streaming plugin (janus, every viewer offloaded). CPU in % of one core over',
    'a fixed window; "serving" = server Node + Janus, the encoder worker aside (it is the same in both). Viewers, server and Janus share the',
    'machine\'s 2 cores, so the viewer processes\' CPU is shown but counted nowhere else. Held = viewers receiving ≥ 95 % of 30 fps.',
    '',
    '| viewers | served by | held 30 fps | fps median / min | server Node CPU % | Janus CPU % | serving CPU % | serving % / viewer | encoder worker CPU % | viewer procs CPU % | kbit/s per viewer | packets lost | max frame gap ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const [local, janus] = runs as [Run, Run];
  const chart = lineChart({
    title: 'Serving CPU against viewers: werift fan-out vs Janus (720p30 H.264)',
    xLabel: 'viewers',
    yLabel: '% of one core',
    series: [
      { label: 'local: server Node', points: local.steps.map((s) => [s.viewers, s.serverCpu] as const) },
      { label: 'janus: server Node', points: janus.steps.map((s) => [s.viewers, s.serverCpu] as const) },
      { label: 'janus: Janus', points: janus.steps.map((s) => [s.viewers, s.extraCpu.janus ?? 0] as const) },
      { label: 'janus: server + Janus', points: janus.steps.map((s) => [s.viewers, servingCpu(s)] as const), dashed: true },
    ],
    reference: { value: 200, label: 'both cores' },
  });
  const heldAll = (run: Run): number => Math.max(0, ...run.steps.filter((s) => s.held === s.viewers).map((s) => s.viewers));
  return section(ctx, started, {
    name: 'audience',
    title: 'Audience: werift fan-out vs Janus',
    markdown,
    charts: [{ file: 'audience-cpu.svg', svg: chart, alt: 'server and Janus CPU against viewer count, local fan-out and Janus side by side' }],
    figures: { local: local.steps, janus: janus.steps },
    targets: [
      {
        what: 'Viewers held at 30 fps through Janus (one 720p30 stream)',
        target: `all ${Math.max(...counts)} tried`,
        measured: `${heldAll(janus)} of ${Math.max(...counts)} (local: ${heldAll(local)})`,
        met: ctx.quick ? null : heldAll(janus) === Math.max(...counts),
      },
    ],
  });
}
