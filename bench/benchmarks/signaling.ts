/**
 * Signaling load: 1k / 5k / 10k WebSocket connections that say hello then ping once a second, plus 100
 * of them sending 60 Hz mouse moves — against Streamgate (`--source test`, so input is answered
 * FORBIDDEN) and, in the same run, against a bare `ws` server that answers the same messages with the
 * same JSON (bare-ws-server.ts). Load comes from two generator processes (signaling-loadgen.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { analyzeProfile, type ProfileLine } from '../lib/cpuprofile.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { Child } from '../lib/child.js';
import { OUT, ROOT } from '../lib/paths.js';
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
  /** The server's event-loop delay over the window (10 ms timer: ~10 = no delay). */
  serverLoopP99Ms: number;
  serverLoopMaxMs: number;
  movers: number;
  machineCpu: number;
  rttSample: number[];
  /** Every round trip of the window (not stored in results.json). */
  rtts: number[];
  /** The CPU of each repeat this figure combines. */
  cpuRuns: number[];
  /** Wall time the measurement window ended and the server had exited (to cut a CPU profile to the window). */
  windowEndAt: number;
  stoppedAt: number;
}

function raiseNofile(pid: number): void {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${NOFILE}:${NOFILE}`], { stdio: 'ignore' });
  } catch {
    /* not allowed: the inherited limit stays */
  }
}

interface Target {
  pid: number;
  wsUrl: string;
  stop: () => Promise<void>;
  /** Event-loop delay since the last call (p99 and max, seconds, at a 10 ms timer resolution). */
  lag: () => Promise<{ p99: number; max: number } | null>;
}

/** Streamgate's own event-loop delay, from its /metrics (prom-client resets the histogram on each scrape). */
async function metricsLag(url: string): Promise<{ p99: number; max: number } | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const read = (name: string): number => Number(new RegExp(`^streamgate_process_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { p99: read('p99'), max: read('max') };
  } catch {
    return null;
  }
}

async function startStreamgate(n: number, nodeArgs: string[] = []): Promise<Target> {
  const server = await startBenchServer(streamgateArgs(n), { nofile: NOFILE, nodeArgs });
  return { pid: server.pid, wsUrl: server.wsUrl, stop: async () => {
    await server.stop();
  }, lag: () => metricsLag(server.url) };
}

async function startBare(execArgv: string[] = []): Promise<Target> {
  const { fork } = await import('node:child_process');
  const child = fork(`${ROOT}dist/bench/bare-ws-server.js`, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
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
    lag: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), 2000);
        child.once('message', (m: { ev?: string; p99?: number; max?: number }) => {
          clearTimeout(timer);
          resolve(m.ev === 'lag' ? { p99: m.p99 ?? NaN, max: m.max ?? NaN } : null);
        });
        child.send({ cmd: 'lag' });
      }),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      // An IPC 'exit' lets the process end normally (and write its --cpu-prof profile).
      child.send({ cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function measure(ctx: BenchContext, kind: Kind, n: number, target: Target, timing: Timing, movers = MOVERS): Promise<SignalingRun> {
  const { pid, wsUrl, stop } = target;
  const gens: Child[] = [];
  let windowEndAt = 0;
  let stoppedAt = 0;
  let result: SignalingRun;
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
    const results = gens.map((g) => g.request({ cmd: 'run', movers: Math.ceil(movers / GENERATORS), warmupMs: timing.warmupMs, measureMs: timing.measureMs }, 'result', timing.warmupMs + timing.measureMs + 60_000));
    await sleep(timing.warmupMs);
    await target.lag();
    const sampler = new CpuSampler({ server: () => [pid], generators: () => gens.map((g) => g.pid) }, 500).start();
    await sleep(timing.measureMs);
    const win = sampler.stop();
    windowEndAt = Date.now();
    const lag = await target.lag();
    const reports = await Promise.all(results);
    const rtts = reports.flatMap((r) => r.rtts as number[]);
    const seconds = (reports[0]?.seconds as number) ?? timing.measureMs / 1000;
    const rttSample: number[] = [];
    for (let i = 0; i < rtts.length; i += Math.max(1, Math.floor(rtts.length / 2000))) rttSample.push(rtts[i]!);
    result = {
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
      serverLoopP99Ms: lag ? lag.p99 * 1000 : NaN,
      serverLoopMaxMs: lag ? lag.max * 1000 : NaN,
      movers,
      machineCpu: win.machinePercent,
      rttSample,
      rtts,
      cpuRuns: [win.groups.server!.cpuPercent],
      windowEndAt,
      stoppedAt: 0,
    };
  } finally {
    await Promise.all(gens.map((g) => g.stop()));
    await stop();
    stoppedAt = Date.now();
  }
  result.stoppedAt = stoppedAt;
  return result;
}

function streamgateArgs(n: number): string[] {
  return ['--source', 'test', '--max-peers', String(n * 2 + 100), '--max-peers-per-ip', String(n * 2 + 100), '--rate-limit', '1000', '--input-rate-limit', '1000'];
}

async function streamgateRun(ctx: BenchContext, n: number, timing: Timing, nodeArgs: string[] = [], movers = MOVERS): Promise<SignalingRun> {
  return measure(ctx, 'streamgate', n, await startStreamgate(n, nodeArgs), timing, movers);
}

export interface ProfileSummary {
  kind: Kind;
  connections: number;
  busyMs: number;
  gcPct: number;
  top: ProfileLine[];
  file: string;
}

/** One more run under `node --cpu-prof`, the profile cut to the measurement window. */
async function profiledRun(ctx: BenchContext, kind: Kind, n: number, timing: Timing): Promise<ProfileSummary | null> {
  const dir = `${OUT}/prof-signaling-${kind}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  ctx.log(`signaling: ${kind} under --cpu-prof, ${n} connections`);
  const flags = ['--cpu-prof', '--cpu-prof-dir', dir];
  const target = kind === 'streamgate' ? await startStreamgate(n, flags) : await startBare(flags);
  const pid = target.pid;
  const run = await measure(ctx, kind, n, target, timing);
  const file = readdirSync(dir).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'));
  if (!file) return null;
  const endMs = run.stoppedAt - run.windowEndAt;
  const p = analyzeProfile(`${dir}/${file}`, 14, { fromEndMs: endMs + timing.measureMs, toEndMs: endMs });
  return { kind, connections: n, busyMs: p.busyMs, gcPct: (p.gcMs / p.busyMs) * 100, top: p.bySelf, file: `bench/out/prof-signaling-${kind}/${file}` };
}

type Timing = { idleMs: number; warmupMs: number; measureMs: number };

export interface SweepProbe {
  connections: number;
  heartbeatMs: number;
  rtt: Summary;
  /** Round trips over 10 ms (the server's loop was held). */
  stalls: number;
  seconds: number;
}

/**
 * The liveness sweep: with `n` idle connections, one probe client pings every 10 ms and its round trips show
 * every time the server's event loop is held. Run at the default heartbeat and at a short one.
 */
async function sweepProbe(ctx: BenchContext, n: number, heartbeatMs: number | null, ms: number): Promise<SweepProbe> {
  ctx.log(`signaling: event-loop probe, ${n} idle connections, heartbeat ${heartbeatMs ?? 'default'}`);
  const server = await startBenchServer([...streamgateArgs(n), ...(heartbeatMs ? ['--heartbeat-interval', String(heartbeatMs)] : [])], { nofile: NOFILE });
  const gens: Child[] = [];
  try {
    for (const tag of ['idle', 'probe']) gens.push(await Child.start(`${ROOT}dist/bench/signaling-loadgen.js`, [server.wsUrl, tag]));
    await gens[0]!.request({ cmd: 'connect', n }, 'connected', 180_000);
    await gens[1]!.request({ cmd: 'connect', n: 1 }, 'connected');
    const r = await gens[1]!.request({ cmd: 'run', movers: 0, pingMs: 10, warmupMs: 500, measureMs: ms }, 'result', ms + 30_000);
    const rtts = r.rtts as number[];
    return { connections: n, heartbeatMs: heartbeatMs ?? 30_000, rtt: summarize(rtts), stalls: rtts.filter((v) => v > 10).length, seconds: r.seconds as number };
  } finally {
    await Promise.all(gens.map((g) => g.stop()));
    await server.stop();
  }
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The repeats of one (server, size): means of the figures, round trips pooled. */
function combine(rs: SignalingRun[]): SignalingRun {
  const m = (f: (r: SignalingRun) => number): number => mean(rs.map(f));
  const rtts = rs.flatMap((r) => r.rtts);
  return {
    ...rs[0]!,
    connected: Math.min(...rs.map((r) => r.connected)),
    failed: rs.reduce((a, r) => a + r.failed, 0),
    idleRssPerConnKiB: m((r) => r.idleRssPerConnKiB),
    idleCpu: m((r) => r.idleCpu),
    cpu: m((r) => r.cpu),
    cpuRuns: rs.map((r) => r.cpu),
    rssMiB: m((r) => r.rssMiB),
    rtt: summarize(rtts),
    rtts,
    rttSample: rs.flatMap((r) => r.rttSample),
    pongsPerSec: m((r) => r.pongsPerSec),
    errorsPerSec: m((r) => r.errorsPerSec),
    lostPongs: rs.reduce((a, r) => a + r.lostPongs, 0),
    generatorCpu: m((r) => r.generatorCpu),
    generatorLoopP99Ms: m((r) => r.generatorLoopP99Ms),
    serverLoopP99Ms: m((r) => r.serverLoopP99Ms),
    serverLoopMaxMs: Math.max(...rs.map((r) => r.serverLoopMaxMs)),
    machineCpu: m((r) => r.machineCpu),
  };
}

export async function runSignaling(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const sizes = ctx.quick ? [40] : [1000, 5000, 10_000];
  const timing = ctx.quick ? { idleMs: 500, warmupMs: 500, measureMs: 1500 } : { idleMs: 2000, warmupMs: 2000, measureMs: 8000 };
  const runs: SignalingRun[] = [];
  // Three pairs: with two, the shared machine's drift alone moved the 1k ratio by ±0.05 between runs.
  const repeats = ctx.quick ? 1 : 3;
  for (const n of sizes) {
    // A B B A: a drift in the machine's other load over the pair falls on both servers alike.
    const order = Array.from({ length: repeats * 2 }, (_, i) => (i % 4 === 0 || i % 4 === 3 ? 'streamgate' : 'bare') as 'streamgate' | 'bare');
    for (const kind of order) {
      if (kind === 'streamgate') {
        ctx.log(`signaling: streamgate, ${n} connections`);
        runs.push(await streamgateRun(ctx, n, timing));
      } else {
        ctx.log(`signaling: bare ws, ${n} connections`);
        runs.push(await measure(ctx, kind, n, await startBare(), timing));
      }
    }
  }
  // Where the time goes: the smallest size (the worst ratio) once more, profiled, and the bare server likewise.
  const profile = await profiledRun(ctx, 'streamgate', sizes[0]!, timing);
  const bareProfile = ctx.quick ? null : await profiledRun(ctx, 'bare', sizes[0]!, timing);
  let pingsOnly: { s: SignalingRun; b: SignalingRun } | null = null;
  const largestN = sizes[sizes.length - 1]!;
  const probes = ctx.quick
    ? [await sweepProbe(ctx, largestN, 2000, 1000)]
    : [await sweepProbe(ctx, largestN, null, 8000), await sweepProbe(ctx, largestN, 2000, 8000)];
  if (!ctx.quick) {
    ctx.log(`signaling: pings only (no movers), ${sizes[0]} connections, both servers`);
    pingsOnly = { s: await streamgateRun(ctx, sizes[0]!, timing, [], 0), b: await measure(ctx, 'bare', sizes[0]!, await startBare(), timing, 0) };
  }
  const pair = (n: number): { s: SignalingRun; b: SignalingRun } => ({
    s: combine(runs.filter((r) => r.connections === n && r.kind === 'streamgate')),
    b: combine(runs.filter((r) => r.connections === n && r.kind === 'bare')),
  });
  const rows = sizes.map((n) => {
    const { s, b } = pair(n);
    const runsOf = (r: SignalingRun): string => (r.cpuRuns.length > 1 ? `runs ${r.cpuRuns.map((v) => num(v)).join(', ')}` : `${num(r.cpuSpread.p10)}–${num(r.cpuSpread.p90)}`);
    return `| ${n} | ${s.connected} / ${b.connected} | ${num(s.cpu)} (${runsOf(s)}) | ${num(b.cpu)} (${runsOf(b)}) | **${num(s.cpu / b.cpu, 2)}×** | ${num(s.rtt.p50, 2)} / ${num(s.rtt.p99, 2)} | ${num(b.rtt.p50, 2)} / ${num(b.rtt.p99, 2)} | ${num(s.idleRssPerConnKiB, 1)} / ${num(b.idleRssPerConnKiB, 1)} | ${num(s.rssMiB, 0)} / ${num(b.rssMiB, 0)} | ${num(s.pongsPerSec, 0)} / ${num(b.pongsPerSec, 0)} | ${num(s.errorsPerSec, 0)} | ${num(s.serverLoopP99Ms, 1)} / ${num(b.serverLoopP99Ms, 1)} | ${num(s.generatorCpu, 0)} / ${num(b.generatorCpu, 0)} | ${num(s.generatorLoopP99Ms, 1)} / ${num(b.generatorLoopP99Ms, 1)} | ${num(s.machineCpu, 0)} / ${num(b.machineCpu, 0)} |`;
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
    `\`--input-rate-limit 1000\`; input is refused with FORBIDDEN because the test source takes none) and the bare \`ws\` server`,
    `(bench/bare-ws-server.ts: same pong JSON, same FORBIDDEN error JSON) under the same load from ${GENERATORS} generator processes: every connection`,
    `says hello, then pings once a second (random phase); ${MOVERS} of them also send 60 Hz \`mouse-move\`. Window ${timing.measureMs / 1000} s after ${timing.warmupMs / 1000} s warm-up.`,
    `CPU in % of one core; ${repeats > 1 ? `each server runs ${repeats} times per size in A-B-B-A-A-B order, the figure is their mean (each run in brackets), round trips pooled` : 'per-½-second spread p10–p90 in brackets'}. The generators share the 2 cores: their CPU is shown, and RTT includes their event-loop delay.`,
    'Event-loop delays are monitorEventLoopDelay at a 10 ms timer (as prom-client reports it in /metrics): 10 means no delay, the excess is the stall.',
    '',
    '| connections | connected (SG / bare) | Streamgate CPU % | bare ws CPU % | **CPU ratio** | SG RTT p50 / p99 ms | bare RTT p50 / p99 ms | idle RSS / conn KiB (SG / bare) | RSS MiB (SG / bare) | pongs/s (SG / bare) | FORBIDDEN/s (SG) | server loop delay p99 ms (SG / bare) | generators CPU % | generator loop delay p99 ms | machine CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(pingsOnly
      ? [
          `Pings only (no mouse moves, so no FORBIDDEN path) at ${pingsOnly.s.connections} connections: Streamgate **${num(pingsOnly.s.cpu)} %**, bare ${num(pingsOnly.b.cpu)} % —`,
          `**${num(pingsOnly.s.cpu / pingsOnly.b.cpu, 2)}×**; RTT p50/p99 ${num(pingsOnly.s.rtt.p50, 2)}/${num(pingsOnly.s.rtt.p99, 2)} ms against ${num(pingsOnly.b.rtt.p50, 2)}/${num(pingsOnly.b.rtt.p99, 2)} ms.`,
          '',
        ]
      : []),
    ...(profile
      ? [
          `Where Streamgate's time goes at ${profile.connections} connections (\`node --cpu-prof\`, cut to the ${timing.measureMs / 1000} s window; ${num(profile.busyMs, 0)} ms busy,`,
          `GC ${num(profile.gcPct)} %; the profile is kept in \`${profile.file}\`, git-ignored). Self time, % of busy time.`,
          ...(bareProfile
            ? [
                `The bare server under the same load and profiler: ${num(bareProfile.busyMs, 0)} ms busy, GC ${num(bareProfile.gcPct)} %, top: ${bareProfile.top
                  .slice(0, 3)
                  .map((l) => `\`${l.name}\` ${num(l.selfPct)} %`)
                  .join(', ')}.`,
              ]
            : []),
          '',
          '| self % | incl. % | function |',
          '|---|---|---|',
          ...profile.top.map((l) => `| ${num(l.selfPct)} | ${num(l.totalPct)} | \`${l.name.replace(/\|/g, '\\|')}\` |`),
          '',
        ]
      : []),
    'The liveness sweep (`src/signaling/liveness-sweep.ts`): one probe client pings every 10 ms while the other connections sit idle;',
    'its round trips show every time the event loop is held. The sweep WebSocket-pings every connection once per heartbeat interval, in fifty',
    'slices spread over it (at 10k: 200 pings every 600 ms at the default 30 s heartbeat, every 40 ms at a 2 s heartbeat).',
    '',
    '| idle connections | heartbeat | probe pings | RTT p50 ms | p99 | max | round trips > 10 ms |',
    '|---|---|---|---|---|---|---|',
    ...probes.map((p) => `| ${p.connections} | ${p.heartbeatMs / 1000} s | ${p.rtt.n} in ${num(p.seconds, 0)} s | ${num(p.rtt.p50, 2)} | ${num(p.rtt.p99, 2)} | **${num(p.rtt.max, 1)}** | ${p.stalls} |`),
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
    log: true,
  });
  return section(ctx, started, {
    name: 'signaling',
    title: 'Signaling load',
    markdown,
    charts: [
      { file: 'signaling-cpu.svg', svg: cpuChart, alt: 'server CPU under signaling load, Streamgate and bare ws' },
      { file: 'signaling-rtt.svg', svg: rttChart, alt: 'pong round trip distributions' },
    ],
    figures: { runs: runs.map(({ rttSample: _r, rtts: _t, ...r }) => r), sweepProbes: probes, pingsOnly: pingsOnly && { streamgate: pingsOnly.s.cpu, bare: pingsOnly.b.cpu, rttStreamgate: pingsOnly.s.rtt, rttBare: pingsOnly.b.rtt }, profile, bareProfile },
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

