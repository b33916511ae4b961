/**
 * Signaling load: 1k / 5k / 10k WebSocket connections that say hello then ping once a second, plus 100
 * of them sending 60 Hz mouse moves — against Streamgate (`--source test`, so input is answered
 * FORBIDDEN) and, in the same run, against a bare `ws` server that answers the same messages with the
 * same JSON (bare-ws-server.ts). Load comes from two generator processes (signaling-loadgen.ts).
 */
import { execFileSync } from 'node:child_process';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { Child } from '../lib/child.js';
import { ROOT } from '../lib/paths.js';
import { CpuSampler, rssBytes } from '../lib/proc.js';
import { startBenchServer } from '../lib/server.js';
import { num, sleep, summarize, type Summary } from '../lib/stats.js';
import { barChart, distributionChart } from '../lib/svg.js';

const GENERATORS = 2;
const MOVERS = 100;
const NOFILE = 65536;

type Kind = 'streamgate' | 'bare';

export interface SignalingRun {
  kind: Kind;
  connections: number;
  connected: number;
  failed: number;
  idleRssPerConnKiB: number;
  idleCpu: number;
  cpu: number;
  cpuSpread: Summary;
  rssMiB: number;
  rtt: Summary;
  pongsPerSec: number;
  errorsPerSec: number;
  lostPongs: number;
  generatorCpu: number;
  generatorLoopP99Ms: number;
  machineCpu: number;
  rttSample: number[];
}

function raiseNofile(pid: number): void {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${NOFILE}:${NOFILE}`], { stdio: 'ignore' });
  } catch {
    /* not allowed: the inherited limit stays */
  }
}

async function startBare(): Promise<{ pid: number; wsUrl: string; stop: () => Promise<void> }> {
  const { fork } = await import('node:child_process');
  const child = fork(`${ROOT}dist/bench/bare-ws-server.js`, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare server did not start')), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
  });
  raiseNofile(child.pid!);
  return {
    pid: child.pid!,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function measure(
  ctx: BenchContext,
  kind: Kind,
  n: number,
  pid: number,
  wsUrl: string,
  stop: () => Promise<void>,
  timing: { idleMs: number; warmupMs: number; measureMs: number },
): Promise<SignalingRun> {
  const gens: Child[] = [];
  try {
    await sleep(500);
    const rss0 = rssBytes(pid) ?? 0;
    for (let g = 0; g < GENERATORS; g++) {
      const gen = await Child.start(`${ROOT}dist/bench/signaling-loadgen.js`, [wsUrl, `g${g}`]);
      raiseNofile(gen.pid);
      gens.push(gen);
    }
    const per = Math.ceil(n / GENERATORS);
    const connected = await Promise.all(gens.map((g, i) => g.request({ cmd: 'connect', n: Math.min(per, n - i * per) }, 'connected', 180_000)));
    const ok = connected.reduce((a, c) => a + (c.ok as number), 0);
    const failed = connected.reduce((a, c) => a + (c.failed as number), 0);
    // Idle: connected and welcomed, nothing sent.
    const idle = new CpuSampler({ server: () => [pid] }).start();
    await sleep(timing.idleMs);
    const idleWindow = idle.stop();
    const idleRss = rssBytes(pid) ?? 0;
    // Active: pings every second from everyone, 60 Hz moves from MOVERS of them.
    const results = gens.map((g) => g.request({ cmd: 'run', movers: Math.ceil(MOVERS / GENERATORS), warmupMs: timing.warmupMs, measureMs: timing.measureMs }, 'result', timing.warmupMs + timing.measureMs + 60_000));
    await sleep(timing.warmupMs);
    const sampler = new CpuSampler({ server: () => [pid], generators: () => gens.map((g) => g.pid) }, 500).start();
    await sleep(timing.measureMs);
    const win = sampler.stop();
    const reports = await Promise.all(results);
    const rtts = reports.flatMap((r) => r.rtts as number[]);
    const seconds = (reports[0]?.seconds as number) ?? timing.measureMs / 1000;
    const rttSample: number[] = [];
    for (let i = 0; i < rtts.length; i += Math.max(1, Math.floor(rtts.length / 2000))) rttSample.push(rtts[i]!);
    return {
      kind,
      connections: n,
      connected: ok,
      failed,
      idleRssPerConnKiB: ok > 0 ? (idleRss - rss0) / ok / 1024 : NaN,
      idleCpu: idleWindow.groups.server!.cpuPercent,
      cpu: win.groups.server!.cpuPercent,
      cpuSpread: win.groups.server!.perInterval,
      rssMiB: win.groups.server!.rssBytes / 2 ** 20,
      rtt: summarize(rtts),
      pongsPerSec: reports.reduce((a, r) => a + (r.pongs as number), 0) / seconds,
      errorsPerSec: reports.reduce((a, r) => a + (r.errors as number), 0) / seconds,
      lostPongs: reports.reduce((a, r) => a + (r.lostPongs as number), 0),
      generatorCpu: win.groups.generators!.cpuPercent,
      generatorLoopP99Ms: Math.max(...reports.map((r) => r.loopDelayP99Ms as number)),
      machineCpu: win.machinePercent,
      rttSample,
    };
  } finally {
    await Promise.all(gens.map((g) => g.stop()));
    await stop();
  }
}

export async function runSignaling(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const sizes = ctx.quick ? [40] : [1000, 5000, 10_000];
  const timing = ctx.quick ? { idleMs: 500, warmupMs: 500, measureMs: 1500 } : { idleMs: 3000, warmupMs: 3000, measureMs: 10_000 };
  const runs: SignalingRun[] = [];
  for (const n of sizes) {
    for (const kind of ['streamgate', 'bare'] as const) {
      if (kind === 'streamgate') {
        ctx.log(`signaling: streamgate, ${n} connections`);
        const server = await startBenchServer(
          ['--source', 'test', '--max-peers', String(n * 2 + 100), '--max-peers-per-ip', String(n * 2 + 100), '--rate-limit', '1000', '--input-rate-limit', '1000'],
          { nofile: NOFILE },
        );
        runs.push(await measure(ctx, kind, n, server.pid, server.wsUrl, () => server.stop(), timing));
      } else {
        ctx.log(`signaling: bare ws, ${n} connections`);
        const bare = await startBare();
        runs.push(await measure(ctx, kind, n, bare.pid, bare.wsUrl, bare.stop, timing));
      }
    }
  }
  const pair = (n: number): { s: SignalingRun; b: SignalingRun } => ({ s: runs.find((r) => r.connections === n && r.kind === 'streamgate')!, b: runs.find((r) => r.connections === n && r.kind === 'bare')! });
  const rows = sizes.map((n) => {
    const { s, b } = pair(n);
    return `| ${n} | ${s.connected} / ${b.connected} | ${num(s.cpu)} (${num(s.cpuSpread.p10)}–${num(s.cpuSpread.p90)}) | ${num(b.cpu)} (${num(b.cpuSpread.p10)}–${num(b.cpuSpread.p90)}) | **${num(s.cpu / b.cpu, 2)}×** | ${num(s.rtt.p50, 2)} / ${num(s.rtt.p99, 2)} | ${num(b.rtt.p50, 2)} / ${num(b.rtt.p99, 2)} | ${num(s.idleRssPerConnKiB, 1)} / ${num(b.idleRssPerConnKiB, 1)} | ${num(s.rssMiB, 0)} / ${num(b.rssMiB, 0)} | ${num(s.pongsPerSec, 0)} / ${num(b.pongsPerSec, 0)} | ${num(s.errorsPerSec, 0)} | ${num(s.generatorCpu, 0)} / ${num(b.generatorCpu, 0)} | ${num(s.machineCpu, 0)} / ${num(b.machineCpu, 0)} |`;
  });
  const idleRows = sizes.map((n) => {
    const { s, b } = pair(n);
    return `| ${n} | ${num(s.idleCpu, 2)} | ${num(b.idleCpu, 2)} | ${num(s.idleRssPerConnKiB, 1)} | ${num(b.idleRssPerConnKiB, 1)} | ${num(2 ** 20 / s.idleRssPerConnKiB / 1000, 0)}k | ${num(2 ** 20 / b.idleRssPerConnKiB / 1000, 0)}k |`;
  });
  const largest = pair(sizes[sizes.length - 1]!);
  const at1k = pair(sizes[0]!);
  const ratios = sizes.map((n) => pair(n).s.cpu / pair(n).b.cpu);
  const perGiB = 2 ** 20 / largest.s.idleRssPerConnKiB;
  const markdown = [
    `Each size runs Streamgate (\`--source test --log-level warn\`, limits raised: \`--max-peers\`, \`--max-peers-per-ip\`, \`--rate-limit 1000\`,`,
    `\`--input-rate-limit 1000\`; input is refused with FORBIDDEN because the test source takes none) and then the bare \`ws\` server`,
    `(bench/bare-ws-server.ts: same pong JSON, same FORBIDDEN error JSON) under the same load from ${GENERATORS} generator processes: every connection`,
    `says hello, then pings once a second (random phase); ${MOVERS} of them also send 60 Hz \`mouse-move\`. Window ${timing.measureMs / 1000} s after ${timing.warmupMs / 1000} s warm-up.`,
    'CPU in % of one core (median per-½-second spread p10–p90). The generators share the 2 cores: their CPU is shown, and RTT includes their event-loop delay.',
    '',
    '| connections | connected (SG / bare) | Streamgate CPU % | bare ws CPU % | **CPU ratio** | SG RTT p50 / p99 ms | bare RTT p50 / p99 ms | idle RSS / conn KiB (SG / bare) | RSS MiB (SG / bare) | pongs/s (SG / bare) | FORBIDDEN/s (SG) | generators CPU % | machine CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Idle (connected and welcomed, nothing sent):',
    '',
    '| connections | Streamgate idle CPU % | bare idle CPU % | Streamgate RSS / conn KiB | bare RSS / conn KiB | Streamgate conns / GiB | bare conns / GiB |',
    '|---|---|---|---|---|---|---|',
    ...idleRows,
  ].join('\n');
  const cpuChart = barChart({
    title: 'Signaling load: server CPU, Streamgate vs bare ws',
    yLabel: '% of one core',
    categories: sizes.map((n) => `${n} connections`),
    series: [
      { label: 'Streamgate', values: sizes.map((n) => pair(n).s.cpu) },
      { label: 'bare ws', values: sizes.map((n) => pair(n).b.cpu) },
    ],
  });
  const rttChart = distributionChart({
    title: 'Signaling load: pong round trip',
    unit: 'ms',
    series: sizes.flatMap((n) => [
      { label: `Streamgate ${n}`, samples: pair(n).s.rttSample },
      { label: `bare ws ${n}`, samples: pair(n).b.rttSample },
    ]),
    target: { value: 5, label: 'target p99 < 5 ms (1k)' },
  });
  return section(ctx, started, {
    name: 'signaling',
    title: 'Signaling load',
    markdown,
    charts: [
      { file: 'signaling-cpu.svg', svg: cpuChart, alt: 'server CPU under signaling load, Streamgate and bare ws' },
      { file: 'signaling-rtt.svg', svg: rttChart, alt: 'pong round trip distributions' },
    ],
    figures: { runs: runs.map(({ rttSample: _r, ...r }) => r) },
    targets: [
      {
        what: 'Signaling CPU vs bare ws',
        target: '≤ 1.5×',
        measured: sizes.map((n, i) => `${n}: ${num(ratios[i], 2)}×`).join(', '),
        met: ctx.quick ? null : ratios.every((r) => r <= 1.5),
      },
      {
        what: `Pong RTT p99 at ${sizes[0]} clients`,
        target: '< 5 ms',
        measured: `${num(at1k.s.rtt.p99, 2)} ms (bare ${num(at1k.b.rtt.p99, 2)} ms)`,
        met: ctx.quick ? null : at1k.s.rtt.p99 < 5,
      },
      {
        what: 'Idle connections per GiB',
        target: '≥ 50k',
        measured: `${num(perGiB / 1000, 0)}k (${num(largest.s.idleRssPerConnKiB, 1)} KiB each at ${largest.s.connections})`,
        met: ctx.quick ? null : perGiB >= 50_000,
      },
    ],
  });
}

