/** Measurements of a lab's link with probe.js: round trips and loss (UDP echo), throughput (TCP bulk). */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BROWSER_ADDRESS, SERVER_ADDRESS, type NetLab } from './lab.js';
import type { PingResult, SinkResult } from './probe.js';

const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));

/** The first JSON line a probe prints, or its stderr when it exits without one. */
function firstLine<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}; stderr: ${stderr}`));
    });
  });
}

function startProbe(lab: NetLab, ns: 'server' | 'browser', args: string[]): ChildProcess {
  return lab.spawn(ns, process.execPath, [PROBE, ...args]);
}

/** `count` UDP probes from the browser to an echo in the server namespace, one every `intervalMs`. */
export async function udpPing(lab: NetLab, count: number, intervalMs: number, port = 7007): Promise<PingResult> {
  const echo = startProbe(lab, 'server', ['echo', SERVER_ADDRESS, String(port)]);
  try {
    await firstLine(echo, 'udp echo', 10_000);
    const client = startProbe(lab, 'browser', ['ping', SERVER_ADDRESS, String(port), String(count), String(intervalMs)]);
    return await firstLine<PingResult>(client, 'udp ping', count * intervalMs + 20_000);
  } finally {
    echo.kill();
  }
}

/** Mbit/s of a TCP bulk transfer of `seconds` in one direction ('down': server → browser). */
export async function tcpThroughput(lab: NetLab, direction: 'down' | 'up', seconds: number, port = 7008): Promise<number> {
  const [receiver, sender, address] = direction === 'down' ? (['browser', 'server', BROWSER_ADDRESS] as const) : (['server', 'browser', SERVER_ADDRESS] as const);
  const sink = startProbe(lab, receiver, ['sink', address, String(port)]);
  try {
    const lines = createInterface({ input: sink.stdout! });
    const done = new Promise<SinkResult>((resolve) =>
      lines.on('line', (line) => {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if ('bytes' in parsed) resolve(parsed as unknown as SinkResult);
      }),
    );
    await new Promise<void>((resolve) => lines.once('line', () => resolve()));
    startProbe(lab, sender, ['source', address, String(port), String(seconds)]);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`tcp transfer did not end within ${seconds + 30} s`)), (seconds + 30) * 1000).unref());
    const result = await Promise.race([done, timeout]);
    return (result.bytes * 8) / 1e6 / result.seconds;
  } finally {
    sink.kill();
  }
}

/** Fills the down link with UDP at `kbitPerSecond` for `seconds` (to a port nobody listens on); resolves when done. */
export async function udpFlood(lab: NetLab, kbitPerSecond: number, seconds: number, port = 7009): Promise<void> {
  const flood = startProbe(lab, 'server', ['flood', BROWSER_ADDRESS, String(port), String(kbitPerSecond), String(seconds)]);
  await firstLine(flood, 'udp flood', (seconds + 20) * 1000);
}
