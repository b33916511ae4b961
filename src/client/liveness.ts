/**
 * Pings and the heartbeat (docs/protocol.md, "Liveness"): every ping waits for its own pong, matched
 * by sequence (else by reply_to), and its round trip is measured with a monotonic clock.
 */
import type { ClientMessageData } from '../protocol/index.js';
import type { ClientContext } from './context.js';
import type { OutgoingMessage } from './envelope.js';
import { StreamgateError } from './errors.js';
import type { ConnectionState, PongMessage } from './events.js';
import { PendingRequests } from './pending.js';

/** What pings go out through: the signaling channel. */
export interface PingTransport {
  readonly state: ConnectionState;
  /** Registered, or at least the socket is open: pings are never queued. */
  readonly canPing: boolean;
  envelope(type: 'ping', data: ClientMessageData<'ping'>): OutgoingMessage;
  transmit(message: OutgoingMessage): boolean;
}

const monotonic = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Liveness {
  private sequence = 0;
  private readonly pings = new PendingRequests<number, { sequence: number; id: string; sentAt: number }>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly context: ClientContext,
    private readonly transport: PingTransport,
  ) {}

  /** Sends a ping and resolves with the round trip in ms. */
  ping(clientState?: string): Promise<number> {
    const sequence = ++this.sequence;
    const m = this.transport.envelope('ping', { client_state: clientState ?? this.transport.state, sequence });
    const notConnected = (): StreamgateError => new StreamgateError('DISCONNECTED', 'Not connected: a ping is not queued.', 'client');
    if (!this.transport.canPing) return Promise.reject(notConnected());
    const answered = this.pings.wait({ sequence, id: m.message_id, sentAt: monotonic() }, { ms: this.context.options.requestTimeoutMs, what: 'pong' });
    if (!this.transport.transmit(m)) this.pings.reject((p) => p.sequence === sequence, notConnected());
    return answered;
  }

  /** Settles the ping a pong answers, records its round trip and emits `latency`. */
  handlePong(msg: PongMessage): void {
    const seq = typeof msg.data.sequence === 'number' ? msg.data.sequence : Number(msg.data.sequence);
    const waiting = this.pings.keys();
    const ping = waiting.find((p) => p.sequence === seq) ?? (msg.reply_to ? waiting.find((p) => p.id === msg.reply_to) : undefined);
    if (!ping) return;
    const rtt = monotonic() - ping.sentAt;
    this.context.metrics.recordLatency(rtt);
    this.pings.resolve((p) => p === ping, rtt);
    this.context.emit('latency', { rtt, sequence: ping.sequence });
  }

  /** A server error answering one of our pings fails it. */
  rejectPing(replyTo: string, error: StreamgateError): void {
    this.pings.reject((p) => p.id === replyTo, error);
  }

  /** Every ping still waiting fails (the socket is gone). */
  fail(error: StreamgateError): void {
    this.pings.rejectAll(error);
  }

  /** Pings every `heartbeat` option ms, or at the welcome's `heartbeat_interval` (default), or never. */
  startHeartbeat(welcomeInterval: number | undefined): void {
    this.stopHeartbeat();
    const hb = this.context.options.heartbeat;
    if (hb === false) return;
    const interval = typeof hb === 'number' ? hb : (welcomeInterval ?? 30_000);
    this.heartbeat = setInterval(() => this.ping().catch(() => {}), Math.max(100, interval));
    (this.heartbeat as { unref?: () => void }).unref?.();
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
