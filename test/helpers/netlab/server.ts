/**
 * The real server (`node dist/src/main.js`) inside the lab's server namespace, listening on the lab's
 * server address; resolves once it logs "listening". The lab stops it on destroy() if stop() was not called.
 */
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { SERVER_ADDRESS, type NetLab } from './lab.js';

const MAIN = fileURLToPath(new URL('../../../src/main.js', import.meta.url));
/** The namespace is the server's own: a fixed port cannot collide with anything. */
export const LAB_PORT = 8080;

export interface LabServer {
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** The server's log lines so far, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startLabServer(lab: NetLab, args: string[]): Promise<LabServer> {
  // The lab's address is not loopback: without this the server would require a token it generates itself.
  const launch = [MAIN, '--host', SERVER_ADDRESS, '--port', String(LAB_PORT), '--insecure-no-auth', '--log-level', 'info', ...args];
  const child = lab.spawn('server', process.execPath, launch);
  child.stdout!.resume();
  const logs: Record<string, unknown>[] = [];
  let stderrText = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s in ${lab.namespaces.server}; stderr:\n${stderrText}`)), 30_000);
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderrText = (stderrText + text).slice(-100_000);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; stderr:\n${stderrText}`));
    });
  });
  const url = `http://${SERVER_ADDRESS}:${LAB_PORT}`;
  return {
    url,
    wsUrl: `ws://${SERVER_ADDRESS}:${LAB_PORT}/ws`,
    process: child,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}
