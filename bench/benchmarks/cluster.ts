/**
 * Cluster: what a relay costs and what a desktop costs. (1) Signaling round trips (ping → pong) of one
 * client straight to the node that owns its desktop and of one relayed through another node, both nodes
 * on one Redis (test/helpers/redis-server.ts). (2) Desktops per node: k virtual desktops at 1280x720,
 * 30 fps, H.264, one werift viewer each (fanout-viewers.ts), the node's whole process tree (Node, Xvfb,
 * apps, PulseAudio, encoder workers) measured for CPU and memory.
 */
import WebSocket from 'ws';
import { startRedisServer } from '../../test/helpers/redis-server.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { Child } from '../lib/child.js';
import { ROOT } from '../lib/paths.js';
import { CpuSampler, descendants } from '../lib/proc.js';
import { health, startBenchServer, type BenchServer } from '../lib/server.js';
import { num, sleep, spread, summarize, type Summary } from '../lib/stats.js';
import { distributionChart } from '../lib/svg.js';

const DESKTOP = 'bench';
const FPS = 30;

/** Round trips of `count` pings, one at a time, on a fresh connection to `url`. */
async function pingRtts(url: string, count: number): Promise<number[]> {
  const ws = new WebSocket(url, ['streamgate']);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const replies = new Map<string, () => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { reply_to?: string };
    if (m.reply_to) replies.get(m.reply_to)?.();
  });
  const send = (type: string, id: string, data: Record<string, unknown>) =>
    new Promise<number>((resolve) => {
      const at = performance.now();
      replies.set(id, () => resolve(performance.now() - at));
      ws.send(JSON.stringify({ type, peer_id: 'bench', message_id: id, timestamp: Date.now(), data }));
    });
  await send('hello', 'h', {});
  const rtts: number[] = [];
  for (let i = 0; i < count; i++) rtts.push(await send('ping', `p${i}`, { sequence: i }));
  ws.close();
  return rtts;
}

interface RelayFigures {
  direct: Summary;
  relayed: Summary;
  /** relayed p50 / direct p50. */
  ratio: number;
}

async function measureRelay(ctx: BenchContext, pings: number): Promise<{ figures: RelayFigures; direct: number[]; relayed: number[] }> {
  const redis = await startRedisServer();
  const servers: BenchServer[] = [];
  try {
    const common = ['--redis', redis.url, '--cluster-ttl', '5000', '--rate-limit', '100000'];
    const owner = await startBenchServer([...common, '--node-id', 'owner', '--desktop', DESKTOP], { host: '127.0.0.2' });
    servers.push(owner);
    const relay = await startBenchServer([...common, '--node-id', 'relay'], { host: '127.0.0.3' });
    servers.push(relay);
    for (;;) {
      // The node joins the cluster once it listens: its first /healthz may have no cluster yet.
      if (((await health(relay)).cluster as { desktops: number } | undefined)?.desktops === 1) break;
      await sleep(100);
    }
    ctx.log(`cluster: ${pings} pings direct, then relayed`);
    await pingRtts(`${owner.wsUrl}/${DESKTOP}`, Math.min(50, pings)); // warm-up
    const direct = await pingRtts(`${owner.wsUrl}/${DESKTOP}`, pings);
    const relayed = await pingRtts(`${relay.wsUrl}/${DESKTOP}`, pings);
    const d = summarize(direct);
    const r = summarize(relayed);
    return { figures: { direct: d, relayed: r, ratio: r.p50 / d.p50 }, direct, relayed };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await redis.cleanup();
  }
}

interface DesktopStep {
  desktops: number;
  /** Whole process tree, % of one core. */
  cpu: number;
  cpuPerDesktop: number;
  rssMiB: number;
  rssPerDesktopMiB: number;
  fps: Summary;
  machineCpu: number;
}

async function measureDesktops(ctx: BenchContext, counts: number[], warmupMs: number, measureMs: number): Promise<DesktopStep[]> {
  const steps: DesktopStep[] = [];
  for (const k of counts) {
    ctx.log(`cluster: ${k} desktop(s) at 720p${FPS} with a viewer each`);
    const names = Array.from({ length: k }, (_, i) => `d${i + 1}`);
    const server = await startBenchServer(['--source', 'virtual', '--resolution', '1280x720', '--framerate', String(FPS), '--max-desktops', String(k), ...names.flatMap((n) => ['--desktop', n])]);
    const viewers: Child[] = [];
    try {
      for (const name of names) {
        const child = await Child.start(`${ROOT}dist/bench/fanout-viewers.js`, [`${server.wsUrl}/${name}`, 'H264']);
        viewers.push(child);
        await child.request({ cmd: 'add', n: 1 }, 'added', 120_000);
      }
      await sleep(warmupMs);
      await Promise.all(viewers.map((v) => v.request({ cmd: 'start' }, 'started')));
      const sampler = new CpuSampler({ node: () => [server.pid, ...descendants(server.pid)] }).start();
      await sleep(measureMs);
      const cpu = sampler.stop();
      const reports = (await Promise.all(viewers.map((v) => v.request({ cmd: 'report' }, 'report')))).flatMap((r) => r.viewers as { frames: number }[]);
      const node = cpu.groups.node!;
      steps.push({
        desktops: k,
        cpu: node.cpuPercent,
        cpuPerDesktop: node.cpuPercent / k,
        rssMiB: node.rssBytes / 2 ** 20,
        rssPerDesktopMiB: node.rssBytes / 2 ** 20 / k,
        fps: summarize(reports.map((r) => r.frames / cpu.seconds)),
        machineCpu: cpu.machinePercent,
      });
    } finally {
      await Promise.all(viewers.map((v) => v.stop()));
      await server.stop();
    }
  }
  return steps;
}

export async function runCluster(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const relay = await measureRelay(ctx, ctx.quick ? 100 : 2000);
  const steps = await measureDesktops(ctx, ctx.quick ? [1, 2] : [1, 2, 4], ctx.quick ? 3000 : 8000, ctx.quick ? 3000 : 15_000);
  const { direct, relayed, ratio } = relay.figures;
  const markdown = [
    '| signaling round trip (ping → pong) | n | p50 ms | p99 ms |',
    '|---|---|---|---|',
    `| straight to the owner node | ${direct.n} | ${num(direct.p50, 3)} | ${num(direct.p99, 3)} |`,
    `| relayed through another node | ${relayed.n} | ${num(relayed.p50, 3)} | ${num(relayed.p99, 3)} |`,
    '',
    `Relayed / direct (p50): **${num(ratio, 2)}×**.`,
    '',
    `| desktops at 720p${FPS}, a viewer each | node CPU % of a core | per desktop | node RSS MiB | per desktop | fps per viewer (p50, spread) | machine CPU % |`,
    '|---|---|---|---|---|---|---|',
    ...steps.map((s) => `| ${s.desktops} | ${num(s.cpu)} | ${num(s.cpuPerDesktop)} | ${num(s.rssMiB)} | ${num(s.rssPerDesktopMiB)} | ${num(s.fps.p50)} (${spread(s.fps)}) | ${num(s.machineCpu)} |`),
  ].join('\n');
  const chart = distributionChart({
    title: 'Signaling round trip: direct vs relayed',
    unit: 'ms',
    series: [
      { label: 'direct', samples: relay.direct },
      { label: 'relayed', samples: relay.relayed },
    ],
  });
  return section(ctx, started, {
    name: 'cluster',
    title: 'Cluster: relay cost and desktops per node',
    markdown,
    charts: [{ file: 'cluster-relay-rtt.svg', svg: chart, alt: 'Distribution of signaling round trips, direct and relayed' }],
    figures: { relay: relay.figures, desktops: steps },
    targets: [
      { what: 'Relayed signaling round trip vs direct (p50)', target: 'measured', measured: `${num(ratio, 2)}× (${num(direct.p50, 3)} → ${num(relayed.p50, 3)} ms)`, met: null },
      {
        what: `Desktops per node at 720p${FPS}`,
        target: 'measured: CPU and memory each',
        measured: steps.map((s) => `${s.desktops}: ${num(s.cpuPerDesktop)} % CPU, ${num(s.rssPerDesktopMiB)} MiB each`).join('; '),
        met: null,
      },
    ],
  });
}
