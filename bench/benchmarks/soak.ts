/**
 * Soak: a long stretch of ordinary use with one abuser in it, to show what keeps growing. A virtual
 * desktop streams while werift viewers (fanout-viewers.ts, one per process) join and leave every few
 * seconds — every other one leaves by being killed, so its session waits out the resume grace — one
 * client holds control and types and moves the mouse, and one connection floods (flood-loadgen.ts).
 * The server's RSS, V8 heap, open file descriptors, media worker processes and UDP sockets are sampled
 * throughout, charted, and each one's slope over the run is stated.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import WebSocket from 'ws';
import { Child } from '../lib/child.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { ROOT } from '../lib/paths.js';
import { rssBytes, workerPids } from '../lib/proc.js';
import { startBenchServer, type BenchServer } from '../lib/server.js';
import { num, sleep } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';

const MiB = 2 ** 20;
/** Viewers that come and go at once, besides the one that stays. */
const CHURNING = 2;
const KEYS = 'the quick brown fox jumps over the lazy dog '.split('');

interface Plan {
  durationMs: number;
  sampleEveryMs: number;
  churnEveryMs: number;
}

export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  fds: number;
  workers: number;
  workerRssMiB: number;
  udpSockets: number;
  connections: number;
}

/** Socket inodes among a process's open file descriptors. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) inodes.add(inode);
      } catch {
        /* closed while listing */
      }
    }
  } catch {
    /* process gone */
  }
  return inodes;
}

/** UDP sockets held by these processes (IPv4 and IPv6 tables of their network namespace). */
function udpSockets(pids: number[]): number {
  const held = new Set(pids.flatMap((pid) => [...socketInodes(pid)]));
  let count = 0;
  for (const table of ['udp', 'udp6']) {
    let rows: string[];
    try {
      rows = readFileSync(`/proc/${pids[0]}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) if (held.has(row.trim().split(/\s+/)[9] ?? '')) count++;
  }
  return count;
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

async function heapUsedBytes(server: BenchServer): Promise<number> {
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/^streamgate_process_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

async function sample(server: BenchServer, t: number): Promise<SoakSample> {
  const workers = workerPids(server.pid);
  const health = (await (await fetch(`${server.url}/healthz`)).json().catch(() => ({}))) as { connections?: number };
  return {
    t,
    rssMiB: (rssBytes(server.pid) ?? NaN) / MiB,
    heapUsedMiB: (await heapUsedBytes(server)) / MiB,
    fds: fdCount(server.pid),
    workers: workers.length,
    workerRssMiB: workers.reduce((a, p) => a + (rssBytes(p) ?? 0), 0) / MiB,
    udpSockets: udpSockets([server.pid, ...workers]),
    connections: health.connections ?? NaN,
  };
}

/** Least-squares slope of y against x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return sxx > 0 ? sxy / sxx : NaN;
}

/** The client that holds control (it connects first, and `--input first` gives it control) and types. */
class Typist {
  errors = 0;
  sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type?: string }).type === 'error') this.errors++;
    });
  }

  static async start(wsUrl: string): Promise<Typist> {
    const ws = new WebSocket(wsUrl);
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', peer_id: 'soak-typist', message_id: 'h', timestamp: Date.now(), data: {} })));
      ws.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { type?: string }).type === 'welcome') resolve();
      });
      ws.once('close', () => reject(new Error('the typist was refused')));
    });
    const typist = new Typist(ws);
    let k = 0;
    // Ten keys and thirty moves a second: a person typing and pointing.
    typist.timer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      k++;
      const send = (type: string, data: Record<string, unknown>): void => {
        typist.sent++;
        ws.send(JSON.stringify({ type, peer_id: 'soak-typist', message_id: `t${typist.sent}`, timestamp: Date.now(), data }));
      };
      send('mouse-move', { x: (k * 7) % 1280, y: (k * 3) % 720 });
      if (k % 3 === 0) send('key-press', { key: KEYS[(k / 3) % KEYS.length]! });
    }, 33);
    return typist;
  }

  stop(): void {
    clearInterval(this.timer);
    this.ws.close();
  }
}

export async function runSoak(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const plan: Plan = ctx.quick ? { durationMs: 20_000, sampleEveryMs: 2000, churnEveryMs: 2000 } : { durationMs: 20 * 60_000, sampleEveryMs: 10_000, churnEveryMs: 5000 };
  const server = await startBenchServer(['--source', 'virtual', '--resolution', '1280x720', '--framerate', '30', '--input', 'first', '--app', 'sleep 100000', '--max-peers-per-ip', '1000']);
  const children: Child[] = [];
  const churners: Child[] = [];
  const samples: SoakSample[] = [];
  let typist: Typist | null = null;
  let joins = 0;
  let failedJoins = 0;
  let leaves = 0;
  let kills = 0;
  let floodFigures: Record<string, unknown> = {};
  try {
    typist = await Typist.start(server.wsUrl);
    const viewer = (): Promise<Child> => Child.start(`${ROOT}dist/bench/fanout-viewers.js`, [server.wsUrl, 'H264']);
    const resident = await viewer();
    children.push(resident);
    await resident.request({ cmd: 'add', n: 1 }, 'added', 60_000);
    const flooder = await Child.start(`${ROOT}dist/bench/flood-loadgen.js`, [server.wsUrl]);
    children.push(flooder);
    await flooder.request({ cmd: 'start', n: 1 }, 'started');
    const t0 = performance.now();
    const elapsed = (): number => (performance.now() - t0) / 1000;
    samples.push(await sample(server, 0));
    let nextSample = plan.sampleEveryMs;
    let nextChurn = plan.churnEveryMs;
    while (performance.now() - t0 < plan.durationMs) {
      const now = performance.now() - t0;
      if (now >= nextChurn) {
        nextChurn += plan.churnEveryMs;
        if (churners.length >= CHURNING) {
          const leaving = churners.shift()!;
          leaves++;
          // Every other viewer vanishes without a goodbye: its session must still be cleaned up after the grace.
          if (leaves % 2 === 0) {
            kills++;
            leaving.process.kill('SIGKILL');
            await leaving.exited;
          } else await leaving.stop();
        }
        // A viewer process that does not start in time (a loaded machine) is counted, not fatal: the soak is
        // about what the server keeps, and it must go on sampling for its whole length.
        const joining = await viewer().catch((err: unknown) => {
          failedJoins++;
          ctx.log(`soak: a viewer process did not start (${(err as Error).message}); going on`);
          return null;
        });
        if (joining) {
          churners.push(joining);
          joins++;
          // Not awaited: a join takes a while, and sampling must keep its pace.
          void joining.request({ cmd: 'add', n: 1 }, 'added', 60_000).catch(() => undefined);
        }
      }
      if (now >= nextSample) {
        nextSample += plan.sampleEveryMs;
        samples.push(await sample(server, elapsed()));
        ctx.log(`soak ${num(elapsed(), 0)} s: RSS ${num(samples.at(-1)!.rssMiB, 0)} MiB, ${samples.at(-1)!.fds} fds, ${samples.at(-1)!.workers} workers`);
      }
      await sleep(100);
    }
    floodFigures = await flooder.request({ cmd: 'stop' }, 'stopped');
  } finally {
    typist?.stop();
    await Promise.all([...children, ...churners].map((c) => c.stop()));
    await server.stop();
  }
  const perMinute = (key: keyof SoakSample): number => slope(samples.map((s) => [s.t / 60, s[key]] as const));
  const series: { key: keyof SoakSample; label: string; unit: string; digits: number }[] = [
    { key: 'rssMiB', label: 'server RSS', unit: 'MiB', digits: 1 },
    { key: 'heapUsedMiB', label: 'server V8 heap used', unit: 'MiB', digits: 1 },
    { key: 'workerRssMiB', label: 'media workers RSS', unit: 'MiB', digits: 1 },
    { key: 'fds', label: 'server open file descriptors', unit: 'fds', digits: 1 },
    { key: 'udpSockets', label: 'UDP sockets (server + workers)', unit: 'sockets', digits: 2 },
    { key: 'workers', label: 'media worker processes', unit: 'processes', digits: 2 },
    { key: 'connections', label: 'WebSocket connections', unit: 'connections', digits: 2 },
  ];
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const max = (key: keyof SoakSample): number => Math.max(...samples.map((s) => s[key]));
  const rows = series.map((s) => `| ${s.label} | ${num(first[s.key], s.digits)} | ${num(max(s.key), s.digits)} | ${num(last[s.key], s.digits)} | **${num(perMinute(s.key), s.digits + 1)}** ${s.unit}/min |`);
  const minutes = plan.durationMs / 60_000;
  const markdown = [
    `${num(minutes, minutes < 1 ? 2 : 0)} min of \`--source virtual\` (1280×720 at 30 fps, \`--input first\`, app \`sleep\`) with one werift viewer staying throughout and`,
    `${CHURNING} more coming and going: every ${plan.churnEveryMs / 1000} s a new viewer process joins and the oldest leaves — every other one is killed (SIGKILL), so its`,
    `session waits out the resume grace. One client holds control and sends 30 mouse moves and 10 key presses a second; one connection floods`,
    `malformed frames (bench/flood-loadgen.ts, reconnecting when closed). Sampled every ${plan.sampleEveryMs / 1000} s; the slope is a least-squares fit over the whole run.`,
    `${joins} joins (${failedJoins} viewer processes late to start, skipped), ${leaves} leaves (${kills} killed); typist: ${typist?.sent ?? 0} messages, ${typist?.errors ?? 0} errors back; flood: ${num(Number(floodFigures.bytesSent ?? NaN) / MiB, 0)} MiB written over ${floodFigures.connects ?? '—'} connections (${floodFigures.serverCloses ?? '—'} closed by the server).`,
    '',
    '| what | first sample | largest | last sample | slope |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const toMinutes = (key: keyof SoakSample) => samples.map((s) => [s.t / 60, s[key]] as const);
  const memoryChart = lineChart({
    title: 'Soak: memory over time',
    xLabel: 'minutes',
    yLabel: 'MiB',
    series: [
      { label: 'server RSS', points: toMinutes('rssMiB') },
      { label: 'server heap used', points: toMinutes('heapUsedMiB') },
      { label: 'workers RSS', points: toMinutes('workerRssMiB'), dashed: true },
    ],
  });
  const countChart = lineChart({
    title: 'Soak: descriptors, sockets, processes, connections over time',
    xLabel: 'minutes',
    yLabel: 'count',
    series: [
      { label: 'open fds', points: toMinutes('fds') },
      { label: 'UDP sockets', points: toMinutes('udpSockets') },
      { label: 'media workers', points: toMinutes('workers') },
      { label: 'connections', points: toMinutes('connections'), dashed: true },
    ],
  });
  const rssSlope = perMinute('rssMiB');
  const fdSlope = perMinute('fds');
  return section(ctx, started, {
    name: 'soak',
    title: 'Soak: churn, control and a flood over time',
    markdown,
    charts: [
      { file: 'soak-memory.svg', svg: memoryChart, alt: 'server RSS, heap and worker RSS over the soak' },
      { file: 'soak-counts.svg', svg: countChart, alt: 'file descriptors, UDP sockets, workers and connections over the soak' },
    ],
    figures: { samples, slopesPerMinute: Object.fromEntries(series.map((s) => [s.key, perMinute(s.key)])), joins, failedJoins, leaves, kills, typist: { sent: typist?.sent ?? 0, errors: typist?.errors ?? 0 }, flood: floodFigures },
    targets: [
      {
        what: `Server RSS and fds over a ${num(minutes, minutes < 1 ? 2 : 0)} min soak`,
        target: 'no growth (RSS < 1 MiB/min, fds < 1/min)',
        measured: `RSS ${num(rssSlope, 2)} MiB/min, fds ${num(fdSlope, 2)}/min`,
        met: ctx.quick ? null : rssSlope < 1 && fdSlope < 1,
      },
    ],
  });
}
