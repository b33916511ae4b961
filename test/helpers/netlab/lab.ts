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
 * `addBrowser()` adds another browser namespace on a link of its own (`LabLink`): its own veth pair from
 * the server (sg1, 198.18.1.1), its own bridge.py and tbf in the router, its own profile. Its browser
 * reaches the server's address 198.18.0.1 through that link, so two viewers of one server can sit behind
 * different links (docs/network-lab.md, "More than one browser").
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

/** The first browser's namespace is `browser`; those added by addBrowser() are `browser2`, `browser3`, … */
export type BrowserNamespace = 'browser' | `browser${number}`;
export type Namespace = 'server' | 'router' | BrowserNamespace;
export type Direction = 'down' | 'up';
/** At most this many browsers (links): each takes one /24 of 198.18.0.0/16 and one bridge.py. */
const MAX_LINKS = 8;

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

/**
 * One server–browser link: a veth pair from the server, one to the browser, the router's bridge.py between
 * them and tbf on the router's two egress interfaces. Link 0 is the lab's first browser (`browser`,
 * 198.18.0.2); link i > 0 is browser namespace `browser<i+1>` at 198.18.i.2, the server's end at 198.18.i.1.
 */
export class LabLink {
  private bridge: ChildProcess | null = null;
  private bridgeAnswers: { resolve: (line: Record<string, unknown>) => void; reject: (err: Error) => void }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The router's interfaces toward the server and toward the browser. */
  private readonly device: Record<'server' | 'browser', string>;
  /** The browser's address on this link; the server's is SERVER_ADDRESS whatever the link. */
  readonly browserAddress: string;

  constructor(
    private readonly lab: NetLab,
    readonly index: number,
    /** The key of this link's browser namespace, for lab.spawn(), lab.wrapper() and launchLabChromium(). */
    readonly browser: BrowserNamespace,
  ) {
    // Link 0 keeps the names it always had (docs/network-lab.md's recipe uses them).
    this.device = index === 0 ? { server: 'tosrv', browser: 'tobrw' } : { server: `tosrv${index}`, browser: `tobrw${index}` };
    this.browserAddress = index === 0 ? BROWSER_ADDRESS : `198.18.${index}.2`;
  }

  /** Makes the veth pairs and addresses and starts the bridge; the namespaces exist already. */
  async build(): Promise<void> {
    const { server, router } = this.lab.namespaces;
    const browser = this.lab.namespace(this.browser);
    const serverEnd = this.index === 0 ? END : `sg${this.index}`;
    const serverAddress = this.index === 0 ? SERVER_ADDRESS : `198.18.${this.index}.1`;
    for (const [end, ns, device, address] of [
      ['server', server, serverEnd, serverAddress],
      ['browser', browser, END, this.browserAddress],
    ] as const) {
      await ip('link', 'add', device, 'netns', ns, 'type', 'veth', 'peer', 'name', this.device[end], 'netns', router);
      // One segment per frame: a 64 KB GSO burst would be lost or delayed as one unit by the bridge.
      await ip('-n', ns, 'link', 'set', device, 'gso_max_segs', '1');
      await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', device);
      await ip('-n', ns, 'link', 'set', device, 'up');
      await ip('-n', router, 'link', 'set', this.device[end], 'up');
    }
    // The server listens on SERVER_ADDRESS only: this browser reaches it through its own link, where the
    // server (which accepts any of its addresses on any interface) answers out the same way.
    if (this.index > 0) await ip('-n', browser, 'route', 'add', `${SERVER_ADDRESS}/32`, 'via', serverAddress);
    await this.startBridge();
  }

  private async startBridge(): Promise<void> {
    const bridge = this.lab.spawn('router', 'python3', [BRIDGE, this.device.server, this.device.browser], { stdio: ['pipe', 'pipe', 'pipe'] });
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
    this.clearSchedule();
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
    const device = this.egress(direction);
    const router = this.lab.namespaces.router;
    if (!shaping) {
      await ip('netns', 'exec', router, 'tc', 'qdisc', 'del', 'dev', device, 'root').catch(() => undefined);
      return;
    }
    // 5 ms of tokens, never less than two full-size frames (tbf needs at least one).
    const burst = Math.max(2 * 1514, Math.round((shaping.rateKbit * 1000 * 0.005) / 8));
    await ip('netns', 'exec', router, 'tc', 'qdisc', 'replace', 'dev', device, 'root', 'tbf', 'rate', `${shaping.rateKbit}kbit`, 'burst', String(burst), 'limit', String(shaping.queueBytes));
  }

  private egress(direction: Direction): string {
    return direction === 'down' ? this.device.browser : this.device.server;
  }

  /** The bridge's counters per direction since it started. */
  async bridgeCounts(): Promise<Record<Direction, BridgeCounts>> {
    const answer = await this.bridgeCommand({ stats: true });
    return answer.stats as Record<Direction, BridgeCounts>;
  }

  /** tbf's counters of one direction (`tc -s qdisc show`), as text. */
  async queueStats(direction: Direction): Promise<string> {
    return ip('netns', 'exec', this.lab.namespaces.router, 'tc', '-s', 'qdisc', 'show', 'dev', this.egress(direction));
  }

  /** Packets tbf dropped in one direction since its qdisc was made (0 when the direction is unshaped). */
  async queueDrops(direction: Direction): Promise<number> {
    const match = /dropped (\d+)/.exec(await this.queueStats(direction));
    return match ? Number(match[1]) : 0;
  }

  clearSchedule(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Closes the bridge's stdin, which ends it; lab.destroy() waits for it with the other children. */
  close(): void {
    this.clearSchedule();
    this.bridge?.stdin?.end();
  }
}

export class NetLab {
  /** Namespace names by key; addBrowser() adds `browser2`, `browser3`, … */
  readonly namespaces: Record<'server' | 'router' | 'browser', string> & Record<`browser${number}`, string>;
  /** A temp dir for this lab's files (wrapper scripts, configs, logs); removed by destroy(). */
  readonly dir: string;
  /** The server–browser links, the first browser's first. */
  readonly links: LabLink[] = [];
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(private readonly id: string) {
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
    for (const key of ['server', 'router', 'browser'] as const) await this.addNamespace(key);
    const link = new LabLink(this, 0, 'browser');
    this.links.push(link);
    await link.build();
  }

  private async addNamespace(key: Namespace): Promise<void> {
    const name = this.namespace(key);
    await ip('netns', 'add', name);
    await ip('-n', name, 'link', 'set', 'lo', 'up');
    // IPv4 only: Chromium would otherwise also try link-local IPv6 candidates across the bridge.
    await this.exec(key, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6']);
  }

  /**
   * Another browser namespace on a link of its own, on the `lan` profile until `apply()`d: its own veth
   * pairs, bridge.py and tbf, so what one link does never touches another's traffic.
   */
  async addBrowser(): Promise<LabLink> {
    if (this.destroyed) throw new Error('the lab is destroyed');
    const index = this.links.length;
    if (index >= MAX_LINKS) throw new Error(`the lab has at most ${MAX_LINKS} browsers`);
    const key = `browser${index + 1}` as const;
    this.namespaces[key] = `${this.id}-brw${index + 1}`;
    await this.addNamespace(key);
    const link = new LabLink(this, index, key);
    this.links.push(link);
    await link.build();
    return link;
  }

  /** The first browser's link: what apply(), setRate() and the counters below act on. */
  private get first(): LabLink {
    const link = this.links[0];
    if (!link) throw new Error('the lab has no link');
    return link;
  }

  /** Applies a profile to the first browser's link: impairments, shaping, and its rate schedule (timers from now on). */
  apply(profile: LinkProfile): Promise<void> {
    return this.first.apply(profile);
  }

  /** Changes one direction's rate of the first link now (a running profile's other settings stay); the queue defaults to 100 ms. */
  setRate(direction: Direction, rateKbit: number, queueBytes?: number): Promise<void> {
    return this.first.setRate(direction, rateKbit, queueBytes);
  }

  /** The first link's bridge counters per direction since it started. */
  bridgeCounts(): Promise<Record<Direction, BridgeCounts>> {
    return this.first.bridgeCounts();
  }

  /** tbf's counters of one direction of the first link (`tc -s qdisc show`), as text. */
  queueStats(direction: Direction): Promise<string> {
    return this.first.queueStats(direction);
  }

  /** Packets tbf dropped in one direction of the first link since its qdisc was made (0 when unshaped). */
  queueDrops(direction: Direction): Promise<number> {
    return this.first.queueDrops(direction);
  }

  /** The name of one of the lab's namespaces; throws for a browser namespace not yet added. */
  namespace(ns: Namespace): string {
    const name = this.namespaces[ns];
    if (!name) throw new Error(`the lab has no namespace "${ns}" (addBrowser() makes browser2, browser3, …)`);
    return name;
  }

  /** Starts a process in one of the lab's namespaces; destroy() stops it if it is still running. */
  spawn(ns: Namespace, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error('the lab is destroyed');
    const child = spawn('ip', ['netns', 'exec', this.namespace(ns), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs a short command in a namespace to its end; rejects with its output when it fails. */
  async exec(ns: Namespace, command: string, args: string[], timeoutMs = 30_000): Promise<string> {
    const name = this.namespace(ns);
    try {
      return (await run('ip', ['netns', 'exec', name, command, ...args], { timeout: timeoutMs })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(`${command} ${args.join(' ')} in ${name} failed: ${e.stderr ?? ''}${e.stdout ?? ''}${String(err)}`);
    }
  }

  /** An executable script that runs `program` inside `ns` (for tools that take a binary path, such as Playwright). */
  wrapper(ns: Namespace, program: string): string {
    const file = join(this.dir, `${ns}-${program.split('/').pop()}`);
    writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${this.namespace(ns)} ${program} "$@"\n`);
    chmodSync(file, 0o755);
    return file;
  }

  /** Stops everything the lab started and removes its namespaces and temp dir; safe to call twice. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const link of this.links) link.close();
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
