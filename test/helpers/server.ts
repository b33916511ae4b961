import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface TestServer {
  port: number;
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** Every log line the server printed so far, parsed. */
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the real server (`node dist/src/main.js`) on a free loopback port with the given flags and
 * resolves once it logs "listening". Always pair with `stop()` in an after hook.
 */
export async function startServer(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', '0', '--source', 'test', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderrText = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s; stderr:\n${stderrText}`)), 30_000);
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderrText += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'listening') {
            clearTimeout(timer);
            resolve(entry.port as number);
          }
        } catch {
          // Not a log line (e.g. a child's output); kept in stderrText for error reports.
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; stderr:\n${stderrText}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    process: child,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
