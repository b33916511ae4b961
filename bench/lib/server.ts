/**
 * Starts the real server (`node dist/src/main.js`) for a benchmark, as test/helpers/server.ts does,
 * plus what benchmarks need: Node flags (--cpu-prof), extra environment (GST_TRACERS), a raised
 * open-file limit, and its process id for /proc accounting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface BenchServer {
  port: number;
  url: string;
  wsUrl: string;
  /** The Node process of the server itself (not the bash that may have started it). */
  pid: number;
  process: ChildProcess;
  logs: Record<string, unknown>[];
  stderr(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Raise the open-file limit (ulimit -n) first. */
  nofile?: number;
  /** Log level, default warn (a log line per event would be part of what is measured). */
  logLevel?: string;
}

export const MAIN = join(ROOT, 'dist/src/main.js');

export async function startBenchServer(args: string[], options: ServerOptions = {}): Promise<BenchServer> {
  // At level warn the server does not log "listening": the port is chosen here and polled.
  const port = await freePort();
  const nodeArgv = [...(options.nodeArgs ?? []), MAIN, '--host', '127.0.0.1', '--port', String(port), '--log-level', options.logLevel ?? 'warn', ...args];
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const child = options.nofile
    ? spawn('bash', ['-c', `(ulimit -n ${options.nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)") && exec ${[process.execPath, ...nodeArgv].map(quote).join(' ')}`], {
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: ROOT,
      })
    : spawn(process.execPath, nodeArgv, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const logs: Record<string, unknown>[] = [];
  let stderrText = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderrText = (stderrText + text).slice(-200_000);
    for (const line of text.split('\n')) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not a log line (or split across chunks) */
      }
    }
  });
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`server exited with ${exitCode} before listening; stderr:\n${stderrText}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within 30 s; stderr:\n${stderrText}`);
    }
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    pid: child.pid!,
    process: child,
    logs,
    stderr: () => stderrText,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The server's /healthz JSON. */
export async function health(server: BenchServer): Promise<Record<string, unknown>> {
  return (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, unknown>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
