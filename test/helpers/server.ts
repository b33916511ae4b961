/**
 * The one launcher of the real server (`node dist/src/main.js`) for tests and benchmarks alike: a child
 * process on a free loopback port, its log lines parsed as they arrive, and a stop() that always ends it.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
/** The repository root (this file runs from dist/test/helpers): the server's working directory. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Levels at which the server logs "listening" (an info line). */
const LOGS_LISTENING = new Set(['info', 'debug', 'trace']);
/** How much of the server's stderr is kept for error reports. */
const STDERR_KEPT = 200_000;

export interface TestServer {
  port: number;
  url: string;
  wsUrl: string;
  /** The Node process of the server itself (a bash raising the file limit execs into it). */
  pid: number;
  process: ChildProcess;
  /** Every log line the server printed so far, parsed. */
  logs: Record<string, unknown>[];
  /** The tail of what the server wrote to stderr, log lines or not. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** What benchmarks change about how the process is started (tests rarely need any of it). */
export interface LaunchOptions {
  /** Node flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Raise the open-file limit (ulimit -n) first, to the hard limit if this is above it. */
  nofile?: number;
  /** --log-level; the server's own default when unset. */
  logLevel?: string;
  /** Address to listen on (default 127.0.0.1); a non-loopback one needs a token or --insecure-no-auth. */
  host?: string;
  /** Port to listen on; by default a free one. */
  port?: number;
  /** Starts the process some other way, e.g. inside a network namespace (`ip netns exec`). */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

/** Servers still running: a runner that exits early (a bench watchdog, a crashed test file) must not leave them behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the server on 127.0.0.1 with `--source test` and then `args` (later flags win), and resolves
 * once it serves. Always pair with `stop()` in an after hook.
 */
export async function startServer(args: string[] = [], env: NodeJS.ProcessEnv = {}, launch: LaunchOptions = {}): Promise<TestServer> {
  // Above level info the server does not log "listening", which is where port 0's choice is read:
  // then the port is chosen here and /healthz polled instead.
  const announces = launch.logLevel === undefined || LOGS_LISTENING.has(launch.logLevel);
  const host = launch.host ?? '127.0.0.1';
  const chosenPort = launch.port ?? (announces ? 0 : await freePort());
  const start = launch.spawn ?? spawn;
  const nodeArgv = [
    ...(launch.nodeArgs ?? []),
    MAIN,
    '--host', host,
    '--port', String(chosenPort),
    '--source', 'test',
    ...(launch.logLevel ? ['--log-level', launch.logLevel] : []),
    ...args,
  ];
  const options: SpawnOptions = { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT };
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const child: ChildProcess = launch.nofile
    ? start('bash', ['-c', `(ulimit -n ${launch.nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)") && exec ${[process.execPath, ...nodeArgv].map(quote).join(' ')}`], options)
    : start(process.execPath, nodeArgv, options);
  running.add(child);
  child.once('exit', () => running.delete(child));
  const logs: Record<string, unknown>[] = [];
  let stderrText = '';
  let pending = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const listening = new Promise<number>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderrText = (stderrText + text).slice(-STDERR_KEPT);
      // A line may arrive in pieces: only whole lines are parsed, the rest waits for the next chunk.
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue; // not a log line (e.g. a child's output); kept in stderrText for error reports
        }
        logs.push(entry);
        if (entry.msg === 'listening') resolve(entry.port as number);
      }
    });
  });
  child.stdout!.resume();

  const url = (port: number): string => `http://${host}:${port}`;
  const serves = async (): Promise<number> => {
    for (;;) {
      if (await fetch(`${url(chosenPort)}/healthz`).then((r) => r.ok, () => false)) return chosenPort;
      if (exitCode !== undefined) return new Promise<number>(() => undefined); // the exit branch reports it
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await Promise.race([
      announces ? listening : serves(),
      exited.then((code) => Promise.reject(new Error(`server exited with ${code} before listening; stderr:\n${stderrText}`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`server did not start within 30 s; stderr:\n${stderrText}`)), 30_000);
      }),
    ]);
    return {
      port,
      url: url(port),
      wsUrl: `ws://${host}:${port}/ws`,
      pid: child.pid!,
      process: child,
      logs,
      stderr: () => stderrText,
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(killTimer);
        return code;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The server's /healthz JSON. */
export async function health(server: TestServer): Promise<Record<string, unknown>> {
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
