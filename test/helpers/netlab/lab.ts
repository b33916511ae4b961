/**
 * The network lab: three network namespaces — server, router, browser — joined by two veth pairs, so
 * that what the server sends reaches the browser over a link whose rate, queue, delay, jitter, loss and
 * reordering a test chooses (docs/network-lab.md).
 *
 *   [server ns] sg0 198.18.0.1 ── tosrv [router ns: bridge.py + tbf] tobrw ── sg0 198.18.0.2 [browser ns]
 *
 * The router's interfaces have no address, so the kernel does not route between them: every frame
 * crosses bridge.py (delay, jitter, loss, reordering), then tbf on the egress interface (rate and queue
 * depth). Each end is shaped on its own link, unlike one `lo` that would carry the encoder's RTP and
 * the server's RTP alike. Addresses are from 198.18.0.0/15, the benchmarking range: nothing here
 * can reach another machine.
 *
 * Names start with `sgnl-<pid of the Node process>-`: a lab whose Node process is gone (a crashed run)
 * is removed by the next `NetLab.create()`; a live one is left alone.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isAlive } from '../processes.js';
import { queueFor, type LinkProfile, type Shaping } from './profiles.js';

const run = promisify(execFile);

export const SERVER_ADDRESS = '198.18.0.1';
export const BROWSER_ADDRESS = '198.18.0.2';
const PREFIX = 'sgnl';
const BRIDGE = fileURLToPath(new URL('../../../../test/helpers/netlab/bridge.py', import.meta.url));
/** The interface in the server and browser namespaces, and the router's two ends. */
const END = 'sg0';
const ROUTER_TO = { server: 'tosrv', browser: 'tobrw' } as const;

export type Namespace = 'server' | 'router' | 'browser';
export type Direction = 'down' | 'up';

/** Bridge counters per direction (bridge.py). */
export interface BridgeCounts {
  frames: number;
  forwarded: number;
  lost: number;
  reordered: number;
  send_errors: number;
}

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    throw new Error(`ip ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

/** Removes the namespaces and temp dirs of labs whose Node process is gone. */
export async function removeLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  const owners = (name: string): number | null => {
    const match = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    return match ? Number(match[1]) : null;
  };
  const listed = (await ip('netns', 'list')).split('\n').map((line) => line.split(' ')[0] ?? '');
  for (const name of listed) {
    const owner = owners(name);
    if (owner === null || isAlive(owner)) continue;
    await killAllIn(name);
    await ip('netns', 'del', name).catch(() => undefined);
    removed.push(name);
  }
  for (const entry of readdirSync(tmpdir())) {
    const owner = owners(entry);
    if (owner === null || isAlive(owner)) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    removed.push(join(tmpdir(), entry));
  }
  return removed;
}

/** SIGKILLs every process in a namespace: only ever called on the lab's own namespaces. */
async function killAllIn(namespace: string): Promise<void> {
  const pids = await ip('netns', 'pids', namespace).catch(() => '');
  for (const pid of pids.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export class NetLab {
  readonly namespaces: Record<Namespace, string>;
  /** A temp dir for this lab's files (wrapper scripts, configs, logs); removed by destroy(). */
  readonly dir: string;
  private readonly children = new Set<ChildProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private bridge: ChildProcess | null = null;
  private bridgeAnswers: { resolve: (line: Record<string, unknown>) => void; reject: (err: Error) => void }[] = [];
  private destroyed = false;

  private constructor(id: string) {
    this.namespaces = { server: `${id}-srv`, router: `${id}-rtr`, browser: `${id}-brw` };
    this.dir = mkdtempSync(join(tmpdir(), `${id}-`));
  }

  /** Builds the namespaces, links and bridge, on the `lan` profile (nothing impaired). */
  static async create(): Promise<NetLab> {
    await removeLeftovers();
    const lab = new NetLab(`${PREFIX}-${process.pid}-${Math.random().toString(16).slice(2, 6)}`);
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private async build(): Promise<void> {
    const { server, router, browser } = this.namespaces;
    for (const key of ['server', 'router', 'browser'] as const) {
      await ip('netns', 'add', this.namespaces[key]);
      await ip('-n', this.namespaces[key], 'link', 'set', 'lo', 'up');
      // IPv4 only: Chromium would otherwise also try link-local IPv6 candidates across the bridge.
      await this.exec(key, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6']);
    }
    for (const [end, ns, address] of [
      ['server', server, SERVER_ADDRESS],
      ['browser', browser, BROWSER_ADDRESS],
    ] as const) {
      await ip('link', 'add', END, 'netns', ns, 'type', 'veth', 'peer', 'name', ROUTER_TO[end], 'netns', router);
      // One segment per frame: a 64 KB GSO burst would be lost or delayed as one unit by the bridge.
      await ip('-n', ns, 'link', 'set', END, 'gso_max_segs', '1');
      await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', END);
      await ip('-n', ns, 'link', 'set', END, 'up');
      await ip('-n', router, 'link', 'set', ROUTER_TO[end], 'up');
    }
    await this.startBridge();
  }

  private async startBridge(): Promise<void> {
    const bridge = this.spawn('router', 'python3', [BRIDGE, ROUTER_TO.server, ROUTER_TO.browser], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.bridge = bridge;
    let stderr = '';
    bridge.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    // A write after the bridge died fails here; the exit handler below reports it to the waiting caller.
    bridge.stdin!.on('error', () => undefined);
    const lines = createInterface({ input: bridge.stdout! });
    lines.on('line', (line) => this.bridgeAnswers.shift()?.resolve(JSON.parse(line) as Record<string, unknown>));
    bridge.once('exit', (code) => {
      for (const waiter of this.bridgeAnswers.splice(0)) waiter.reject(new Error(`bridge.py exited with ${code}: ${stderr}`));
    });
    await new Promise((resolve, reject) => this.bridgeAnswers.push({ resolve, reject }));
  }

  /** Sends one command to bridge.py and waits for its one-line answer; rejects on an error answer. */
  private async bridgeCommand(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const bridge = this.bridge;
    if (!bridge || bridge.exitCode !== null) throw new Error('the lab bridge is not running');
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => this.bridgeAnswers.push({ resolve, reject }));
    bridge.stdin!.write(`${JSON.stringify(command)}\n`);
    const reply = await answer;
    if (typeof reply.error === 'string') throw new Error(`bridge.py refused ${JSON.stringify(command)}: ${reply.error}`);
    return reply;
  }

  /** Applies a profile: impairments, shaping, and its rate schedule (timers from now on). */
  async apply(profile: LinkProfile): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.bridgeCommand({ seed: profile.seed, down: profile.down.impairment, up: profile.up.impairment });
    await this.shape('down', profile.down.shaping);
    await this.shape('up', profile.up.shaping);
    for (const step of profile.schedule) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.setRate(step.direction, step.rateKbit, step.queueBytes).catch((err: Error) => process.stderr.write(`netlab: ${err.message}\n`));
      }, step.atMs);
      this.timers.add(timer);
    }
  }

  /** Changes one direction's rate now (a running profile's other settings stay); the queue defaults to 100 ms. */
  async setRate(direction: Direction, rateKbit: number, queueBytes?: number): Promise<void> {
    await this.shape(direction, { rateKbit, queueBytes: queueBytes ?? queueFor(rateKbit, 100) });
  }

  /** tbf on the router's egress toward the receiver of that direction; null removes it. */
  private async shape(direction: Direction, shaping: Shaping | null): Promise<void> {
    const device = direction === 'down' ? ROUTER_TO.browser : ROUTER_TO.server;
    const router = this.namespaces.router;
    if (!shaping) {
      await ip('netns', 'exec', router, 'tc', 'qdisc', 'del', 'dev', device, 'root').catch(() => undefined);
      return;
    }
    // 5 ms of tokens, never less than two full-size frames (tbf needs at least one).
    const burst = Math.max(2 * 1514, Math.round((shaping.rateKbit * 1000 * 0.005) / 8));
    await ip('netns', 'exec', router, 'tc', 'qdisc', 'replace', 'dev', device, 'root', 'tbf', 'rate', `${shaping.rateKbit}kbit`, 'burst', String(burst), 'limit', String(shaping.queueBytes));
  }

  /** The bridge's counters per direction since it started. */
  async bridgeCounts(): Promise<Record<Direction, BridgeCounts>> {
    const answer = await this.bridgeCommand({ stats: true });
    return answer.stats as Record<Direction, BridgeCounts>;
  }

  /** tbf's counters of one direction (`tc -s qdisc show`), as text. */
  async queueStats(direction: Direction): Promise<string> {
    const device = direction === 'down' ? ROUTER_TO.browser : ROUTER_TO.server;
    return ip('netns', 'exec', this.namespaces.router, 'tc', '-s', 'qdisc', 'show', 'dev', device);
  }

  /** Packets tbf dropped in one direction since its qdisc was made (0 when the direction is unshaped). */
  async queueDrops(direction: Direction): Promise<number> {
    const match = /dropped (\d+)/.exec(await this.queueStats(direction));
    return match ? Number(match[1]) : 0;
  }

  /** Starts a process in one of the lab's namespaces; destroy() stops it if it is still running. */
  spawn(ns: Namespace, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error('the lab is destroyed');
    const child = spawn('ip', ['netns', 'exec', this.namespaces[ns], command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs a short command in a namespace to its end; rejects with its output when it fails. */
  async exec(ns: Namespace, command: string, args: string[], timeoutMs = 30_000): Promise<string> {
    try {
      return (await run('ip', ['netns', 'exec', this.namespaces[ns], command, ...args], { timeout: timeoutMs })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(`${command} ${args.join(' ')} in ${this.namespaces[ns]} failed: ${e.stderr ?? ''}${e.stdout ?? ''}${String(err)}`);
    }
  }

  /** An executable script that runs `program` inside `ns` (for tools that take a binary path, such as Playwright). */
  wrapper(ns: Namespace, program: string): string {
    const file = join(this.dir, `${ns}-${program.split('/').pop()}`);
    writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${this.namespaces[ns]} ${program} "$@"\n`);
    chmodSync(file, 0o755);
    return file;
  }

  /** Stops everything the lab started and removes its namespaces and temp dir; safe to call twice. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.bridge?.stdin?.end();
    const running = [...this.children];
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    for (const ns of Object.values(this.namespaces)) {
      await killAllIn(ns);
      await ip('netns', 'del', ns).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
