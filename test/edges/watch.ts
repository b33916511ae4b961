/**
 * What every edge test keeps an eye on while it abuses the server: a good client pinging over its own
 * WebSocket (every pong counted and timed) and the server's resident memory, sampled before, during and after.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type WebSocket from 'ws';
import { rssBytes } from '../../bench/lib/proc.js';
import { WsPeer } from '../helpers/ws-peer.js';

const MiB = 2 ** 20;

export interface PingFigures {
  sent: number;
  pongs: number;
  /** Round trips, ms, in the order the pongs came. */
  rtts: number[];
  /** Longest wait between two pongs (or from the first ping to the first pong), ms. */
  maxGapMs: number;
}

/** A welcomed client pinging every `everyMs`, as a viewer's SDK does (faster, to see short stalls). */
export class GoodClient {
  private readonly sentAt = new Map<string, number>();
  private readonly rtts: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private lastPongAt = 0;
  private maxGapMs = 0;

  private constructor(readonly peer: WsPeer) {
    peer.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type?: string; reply_to?: string };
      if (m.type !== 'pong' || m.reply_to === undefined) return;
      const at = this.sentAt.get(m.reply_to);
      if (at === undefined) return;
      this.sentAt.delete(m.reply_to);
      const now = performance.now();
      this.rtts.push(now - at);
      this.maxGapMs = Math.max(this.maxGapMs, now - this.lastPongAt);
      this.lastPongAt = now;
    });
  }

  static async start(url: string, options: WebSocket.ClientOptions = {}, everyMs = 50): Promise<GoodClient> {
    const peer = await WsPeer.open(url, options);
    await peer.hello({}, 'good');
    const client = new GoodClient(peer);
    client.lastPongAt = performance.now();
    client.timer = setInterval(() => {
      client.sent++;
      client.sentAt.set(peer.request('ping', { sequence: client.sent }), performance.now());
    }, everyMs);
    return client;
  }

  /** Stops pinging, waits for the pongs still on their way, and returns what was seen. */
  async stop(): Promise<PingFigures> {
    clearInterval(this.timer);
    const deadline = Date.now() + 3000;
    while (this.sentAt.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.maxGapMs = Math.max(this.maxGapMs, this.sentAt.size > 0 ? performance.now() - this.lastPongAt : 0);
    this.peer.close();
    return { sent: this.sent, pongs: this.rtts.length, rtts: [...this.rtts], maxGapMs: this.maxGapMs };
  }
}

/** Generous bounds: the machine is shared, so only a real stall (seconds) or lost pongs fail. */
/** Returns the one-line summary it judged, for the test's diagnostics. */
export function assertUndisturbed(figures: PingFigures, what: string): string {
  const sorted = [...figures.rtts].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? NaN;
  const summary = `${what}: ${figures.pongs}/${figures.sent} pongs, p99 ${p99.toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms, longest gap ${figures.maxGapMs.toFixed(0)} ms`;
  assert.ok(figures.sent >= 20, `too few pings to judge: ${summary}`);
  assert.ok(figures.pongs >= figures.sent - 2, `pongs lost — ${summary}`);
  assert.ok(p99 < 1000, `round trips stalled — ${summary}`);
  assert.ok(figures.maxGapMs < 3000, `pongs stopped for a while — ${summary}`);
  return summary;
}

/** The server's RSS before, at its largest during, and after an edge; asserts it stayed bounded. */
export class RssWatch {
  readonly before: number;
  private peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.before = rssBytes(pid) ?? 0;
    this.peak = this.before;
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, rssBytes(pid) ?? 0)), 250);
  }

  /** RSS may grow by at most `duringMiB` at its peak and stay at most `afterMiB` above where it started. */
  /** Returns the one-line summary it judged, for the test's diagnostics. */
  finish(what: string, duringMiB = 200, afterMiB = 120): string {
    clearInterval(this.timer);
    const after = rssBytes(this.pid) ?? 0;
    this.peak = Math.max(this.peak, after);
    const mib = (bytes: number): string => (bytes / MiB).toFixed(0);
    const text = `${what}: RSS ${mib(this.before)} → peak ${mib(this.peak)} → ${mib(after)} MiB`;
    assert.ok(this.peak - this.before < duringMiB * MiB, `memory grew too much — ${text}`);
    assert.ok(after - this.before < afterMiB * MiB, `memory not given back — ${text}`);
    return text;
  }
}

/** A raw TCP connection to the server, from a chosen loopback address (127.0.0.0/8 is all loopback). */
export function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with everything the server wrote and how long after `since` the socket closed. */
export function closedAfter(socket: Socket, since: number): Promise<{ ms: number; text: string }> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    if (socket.destroyed) resolve({ ms: performance.now() - since, text });
    else socket.once('close', () => resolve({ ms: performance.now() - since, text }));
  });
}
