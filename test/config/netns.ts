import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./ws-probe.js', import.meta.url));

/**
 * A network namespace with only its own loopback, plus `address` (not 127.x) on it: a server bound there is
 * "exposed" as far as it can tell, yet nothing outside this machine (nor outside the namespace) reaches it.
 * Servers and the clients that test them both run inside. remove() is also called at process exit, so the
 * namespace goes even when a test fails or throws.
 */
export class TestNamespace {
  private removed = false;

  private constructor(
    readonly name: string,
    readonly address: string,
  ) {
    process.once('exit', () => this.remove());
  }

  static create(address = '198.18.0.1'): TestNamespace {
    const name = `sg-test-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name]);
    const ns = new TestNamespace(name, address);
    try {
      ns.exec('ip', ['link', 'set', 'lo', 'up']);
      ns.exec('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
    } catch (err) {
      ns.remove();
      throw err;
    }
    return ns;
  }

  exec(command: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, command, ...args], { encoding: 'utf8' });
  }

  /** What a WebSocket client at `url` inside the namespace is told first (see ws-probe.ts). */
  probe(url: string): ProbeResult {
    return JSON.parse(this.exec(process.execPath, [PROBE, url])) as ProbeResult;
  }

  /** The real server, inside the namespace, on `host` (default: the namespace's address) and a free port. */
  async startServer(args: string[], host = this.address): Promise<NamespacedServer> {
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, MAIN, '--host', host, '--port', '0', '--source', 'test', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new NamespacedServer(child);
    await server.listening();
    return server;
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    try {
      execFileSync('ip', ['netns', 'delete', this.name], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}

export interface ProbeResult {
  /** `welcome` when the hello was answered, `error` when the server refused. */
  type: string;
  code: string | null;
  closeCode: number | null;
}

/** A server started by TestNamespace: its stdout (for people) and stderr (JSON log) kept as text. */
export class NamespacedServer {
  stdout = '';
  stderr = '';
  port = 0;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** The parsed JSON log lines so far. */
  get logs(): Record<string, unknown>[] {
    return this.stderr.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  listening(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`server did not listen within 30 s; stderr:\n${this.stderr}`)), 30_000);
      const check = (): void => {
        const entry = this.logs.find((e) => e.msg === 'listening');
        if (entry) {
          this.port = entry.port as number;
          done(null);
        }
      };
      const onExit = (code: number | null): void => done(new Error(`server exited with ${code} before listening; stderr:\n${this.stderr}`));
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        this.child.stderr!.off('data', check);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      this.child.stderr!.on('data', check);
      this.child.once('exit', onExit);
    });
  }

  /** SIGTERM (`ip netns exec` execs the server, so this is its pid), SIGKILL after 8 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  }
}
