/**
 * A real Janus (Debian's /usr/bin/janus) for tests: its own configuration folder in a temp dir with only the
 * streaming plugin and the HTTP transport, bound to loopback on a free port. Stop it (or kill -9 and start it
 * again on the same configuration) by PID; `dispose()` removes the folder whatever state it is in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, waitUntil } from './processes.js';

export const JANUS_PATH = '/usr/bin/janus';
const LIB_DIR = '/usr/lib/x86_64-linux-gnu/janus';

export interface JanusServerOptions {
  /** Ports the streaming plugin picks mountpoint ports from when a create asks for port 0. */
  mountpointPorts?: { min: number; max: number };
  /** Seconds without a request after which Janus drops a session (30 unless given). */
  sessionTimeoutS?: number;
}

/** A free TCP port on loopback (released again before Janus binds it: a small race, acceptable in tests). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from a listening socket');
  return address.port;
}

/**
 * Janus never gathers ICE candidates on a loopback interface (ice.c skips IFF_LOOPBACK whatever the enforce
 * list says), so the tests enforce the host's own first IPv4 address: traffic to it never leaves the machine.
 */
export function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  throw new Error('no non-loopback IPv4 address: Janus would offer no ICE candidate');
}

/** A block of 100 ports at a random offset, so that two test files running at once rarely collide. */
function randomRange(base: number, span: number): { min: number; max: number } {
  const min = base + Math.floor(Math.random() * (span / 100)) * 100;
  return { min, max: min + 99 };
}

export class JanusServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly adminPort: number,
    readonly apiSecret: string,
    readonly adminKey: string,
    readonly mountpointPorts: { min: number; max: number },
    readonly iceAddress: string,
    readonly sessionTimeoutS: number,
  ) {}

  /** Writes the configuration and starts Janus; resolves once its HTTP API answers `info`. */
  static async start(options: JanusServerOptions = {}): Promise<JanusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'streamgate-janus-'));
    try {
      const port = await freePort();
      let adminPort = await freePort();
      while (adminPort === port) adminPort = await freePort();
      const server = new JanusServer(
        dir,
        port,
        adminPort,
        `api-${Math.random().toString(36).slice(2)}`,
        `admin-${Math.random().toString(36).slice(2)}`,
        options.mountpointPorts ?? randomRange(41000, 9000),
        hostAddress(),
        options.sessionTimeoutS ?? 30,
      );
      server.writeConfig();
      await server.launch();
      return server;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/janus`;
  }

  /** The admin API (its secret is `adminKey`, as the streaming plugin's admin key is). */
  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}/admin`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logPath(): string {
    return join(this.dir, 'janus.log');
  }

  /** The last lines of Janus's log, for failure messages. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private writeConfig(): void {
    const plugins = join(this.dir, 'plugins');
    const transports = join(this.dir, 'transports');
    const empty = join(this.dir, 'none');
    for (const folder of [plugins, transports, empty]) mkdirSync(folder);
    // Janus loads every .so in its folders: folders holding one link each load exactly what the tests need.
    symlinkSync(join(LIB_DIR, 'plugins', 'libjanus_streaming.so'), join(plugins, 'libjanus_streaming.so'));
    symlinkSync(join(LIB_DIR, 'transports', 'libjanus_http.so'), join(transports, 'libjanus_http.so'));
    const webrtcPorts = randomRange(51000, 9000);
    const files: Record<string, string> = {
      'janus.jcfg': `general: {
  configs_folder = "${this.dir}"
  plugins_folder = "${plugins}"
  transports_folder = "${transports}"
  events_folder = "${empty}"
  loggers_folder = "${empty}"
  debug_level = 4
  debug_timestamps = true
  debug_colors = false
  api_secret = "${this.apiSecret}"
  admin_secret = "${this.adminKey}"
  session_timeout = ${this.sessionTimeoutS}
}
media: {
  rtp_port_range = "${webrtcPorts.min}-${webrtcPorts.max}"
}
nat: {
  nice_debug = false
  ignore_mdns = true
  ice_enforce_list = "${this.iceAddress}"
}
plugins: {}
transports: {}
events: {}
loggers: {}
`,
      'janus.transport.http.jcfg': `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${this.port}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_base_path = "/admin"
  admin_http = true
  admin_port = ${this.adminPort}
  admin_ip = "127.0.0.1"
  admin_https = false
}
cors: {}
`,
      'janus.plugin.streaming.jcfg': `general: {
  admin_key = "${this.adminKey}"
  rtp_port_range = "${this.mountpointPorts.min}-${this.mountpointPorts.max}"
  events = false
}
`,
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, name), text);
  }

  private async launch(): Promise<void> {
    const child = spawn(JANUS_PATH, ['-C', join(this.dir, 'janus.jcfg'), '-F', this.dir, '-N', '-L', this.logPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let early: string | undefined;
    child.once('exit', (code, signal) => {
      early = `janus exited (${code ?? signal}) before its API answered: ${stderr}\n${this.logTail()}`;
    });
    await waitUntil(
      `Janus answers on ${this.url}`,
      async () => {
        if (early) throw new Error(early);
        return this.answers();
      },
      20_000,
    );
  }

  /** Whether the API answers an `info` request now. */
  async answers(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/info`, { signal: AbortSignal.timeout(1000) });
      return response.ok;
    } catch {
      return false;
    }
  }

  /** SIGKILL: Janus gets no chance to tell anyone; every session and mountpoint is gone. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !isAlive(child.pid) || child.exitCode !== null) return;
    child.kill('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!stopped) await this.signal('SIGKILL');
  }

  /** Starts Janus again on the same configuration (and so the same ports). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops Janus if it runs and removes the configuration folder. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
  }
}
