import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnTethered } from '../../src/process/spawn-tethered.js';
import { isAlive, waitUntil } from './processes.js';

const HOST = '127.0.0.1';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The redis-server process itself (not its tether); changes with every restart. */
  readonly pid: number;
  /** Ends redis-server: SIGTERM lets it shut down, SIGKILL is a crash. Resolves once it is gone. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted), and waits for PING. */
  restart(): Promise<void>;
  /** Stops it if it runs and removes its directory; safe to call twice. */
  cleanup(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when a redis answers PING with PONG on host:port. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A real redis-server on 127.0.0.1 and a free port, with its own temporary directory and no persistence.
 * It runs under the project's tether, so it ends with the test process however that ends; call cleanup()
 * in an `after` hook all the same.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'streamgate-redis-'));
  const port = await freePort();
  const pidFile = join(dir, 'redis.pid');
  const args = ['--port', String(port), '--bind', HOST, '--protected-mode', 'yes', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', pidFile, '--loglevel', 'warning'];
  let tether: ChildProcess | null = null;
  let pid = 0;
  let output = '';

  const launch = async (): Promise<void> => {
    rmSync(pidFile, { force: true });
    output = '';
    const child = spawnTethered('redis-server', args);
    tether = child;
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitUntil(`redis-server answers PING on ${HOST}:${port}`, async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} before answering PING:\n${output}`);
        return pings(port);
      }, 10_000);
      await waitUntil(`redis-server writes ${pidFile}`, () => readPid() !== 0, 5000);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    pid = readPid();
  };

  const readPid = (): number => {
    try {
      return Number(readFileSync(pidFile, 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const child = tether;
    if (!child) return;
    tether = null;
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
    if (pid && isAlive(pid)) process.kill(pid, signal);
    else child.kill('SIGKILL');
    await exited;
    await waitUntil(`redis-server ${pid} is gone`, () => !isAlive(pid), 5000);
  };

  await launch();
  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    get pid() {
      return pid;
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async cleanup() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
