/**
 * The signaling channel: one WebSocket at a time, opened again with backoff after a close worth
 * retrying, each one registered with `hello` (resuming the last session when there is one). It stamps
 * outgoing messages with the envelope, keeps what is sent while offline in a bounded queue, pings at the
 * heartbeat interval, and hands every well-formed server message to its owner, the client facade.
 */
import type { ClientMessageData, ClientMessageType, ServerMessage } from '../protocol/index.js';
import { CloseCode } from '../protocol/errors.js';
import { backoffDelay, shouldReconnect } from './backoff.js';
import type { WebSocketLike } from './config.js';
import type { ClientContext } from './context.js';
import { StreamgateError } from './errors.js';
import { Envelopes, type OutgoingMessage } from './envelope.js';
import type { ConnectionState, StateChange, WelcomeData } from './events.js';
import { takeableEarlySession, type EarlySession } from './early-session.js';
import { helloData, type ResumeTicket } from './hello.js';
import { Liveness, type PingTransport } from './liveness.js';
import { PendingRequests } from './pending.js';
import { MessageQueue } from './queue.js';
import { readServerMessage } from './server-message.js';

/** What the channel needs from its owner. */
export interface SignalingHooks {
  /** A well-formed server message arrived. */
  message(msg: ServerMessage): void;
  /** The socket is gone (or disconnect() was called): what waited for an answer on it fails with `error`. */
  disconnected(error: StreamgateError): void;
  /** The connection ends for good (disconnect(), or a close not to be retried): so does the stream. */
  ended(): void;
  /** `message` fell out of the full offline queue. */
  dropped(message: OutgoingMessage): void;
  /**
   * A `hello` just left; `fresh` when it opens a new session (no resume), whose welcome nothing can change.
   * `requestSent`: a boot script sent the `request-offer` right behind it already (early-session.ts).
   */
  helloSent(fresh: boolean, requestSent?: OutgoingMessage): void;
}

const WS_OPEN = 1;
const WS_CLOSED = 3;

function byteLength(text: string): number {
  return typeof TextEncoder === 'function' ? new TextEncoder().encode(text).length : text.length * 3;
}

/** Resolves once `ws` has closed (at most 2 s), with its handlers taken away from the channel. */
function socketClosed(ws: WebSocketLike): Promise<void> {
  if (ws.readyState === WS_CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(done, 2000);
    ws.onclose = done;
    ws.onerror = () => {};
    ws.onmessage = null;
    ws.onopen = null;
  });
}

export class SignalingChannel implements PingTransport {
  private ws: WebSocketLike | null = null;
  private isRegistered = false;
  private currentState: ConnectionState = 'idle';
  private deliberate = false;
  private attempt = 0;
  private everWelcomed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private lastWelcome: WelcomeData | null = null;
  private resume: ResumeTicket | null = null;
  private readonly queue: MessageQueue<OutgoingMessage>;
  private readonly envelopes: Envelopes;
  private readonly connectWaiters = new PendingRequests<WelcomeData, null>();
  /** Pings and the heartbeat, on this channel's socket. */
  readonly liveness: Liveness;

  constructor(
    private readonly context: ClientContext,
    private readonly hooks: SignalingHooks,
  ) {
    this.queue = new MessageQueue(context.options.maxQueueSize);
    this.envelopes = new Envelopes(context.options.peerId);
    this.liveness = new Liveness(context, this);
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Welcomed on the current socket: messages go out now instead of into the offline queue. */
  get registered(): boolean {
    return this.isRegistered;
  }

  get canPing(): boolean {
    return this.isRegistered || (this.ws !== null && this.ws.readyState === WS_OPEN);
  }

  /** The last welcome's data, or null before the first. */
  get welcome(): WelcomeData | null {
    return this.lastWelcome;
  }

  /** disconnect() was called: nothing is queued or retried any more. */
  get stopped(): boolean {
    return this.deliberate;
  }

  get queueSize(): number {
    return this.queue.size;
  }

  get queueDropped(): number {
    return this.queue.dropped;
  }

  /** The message ids waiting in the offline queue. */
  queuedIds(): Set<string> {
    return new Set(this.queue.peekAll().map((m) => m.message_id));
  }

  // ---------------------------------------------------------------- connection

  /** Resolves with the welcome's data; opens the socket unless one is open or being opened. */
  connect(): Promise<WelcomeData> {
    const welcomed = this.connectWaiters.wait(null);
    if (this.currentState === 'open' || this.currentState === 'live') {
      this.settleConnect(this.lastWelcome!);
    } else if (this.currentState === 'idle' || this.currentState === 'closed') {
      this.deliberate = false;
      this.attempt = 0;
      this.openSocket();
    }
    return welcomed;
  }

  /** Resolves the pending connect() calls: the owner calls this once it has handled the welcome. */
  settleConnect(data: WelcomeData): void {
    this.connectWaiters.resolveAll(data);
  }

  /** Closes for good: no reconnect, the session forgotten. Resolves once the socket has closed. */
  stop(): Promise<void> {
    this.deliberate = true;
    this.clearReconnectTimer();
    this.liveness.stopHeartbeat();
    this.hooks.ended();
    this.queue.clear();
    this.resume = null;
    const ws = this.ws;
    this.ws = null;
    this.isRegistered = false;
    const closed = ws ? socketClosed(ws) : Promise.resolve();
    if (ws) {
      try {
        ws.close(CloseCode.NORMAL, 'client disconnect');
      } catch {
        /* already closing */
      }
    }
    this.failWaiters(new StreamgateError('DISCONNECTED', 'The client disconnected.', 'client'));
    this.context.metrics.markDisconnected();
    this.setState('closed', {});
    return closed;
  }

  /**
   * Takes in a welcome: registered, resume token rotated, heartbeat started. Returns false when the
   * welcome starts a new server session after an earlier one (a restart, or the resume refused):
   * nothing of the old session, such as its peer connection, can continue.
   */
  acceptWelcome(data: WelcomeData): boolean {
    const reconnected = this.everWelcomed;
    const previousSession = this.resume?.session_id;
    this.lastWelcome = data;
    this.everWelcomed = true;
    if (typeof data.resume_token === 'string') this.resume = { session_id: data.session_id, resume_token: data.resume_token };
    this.attempt = 0;
    if (!this.isRegistered) {
      this.isRegistered = true;
      this.context.metrics.markConnected(Date.now());
      if (reconnected) this.context.metrics.reconnects++;
    }
    this.liveness.startHeartbeat(data.session_config.heartbeat_interval);
    return !reconnected || (data.resumed === true && data.session_id === previousSession);
  }

  /** open ↔ live follows the peer connection while registered. */
  setPeerConnected(connected: boolean): void {
    if (!this.isRegistered) return;
    this.setState(connected ? 'live' : 'open', {});
  }

  private openSocket(): void {
    this.reconnectTimer = null;
    this.setState('connecting', this.attempt > 0 ? { attempt: this.attempt } : {});
    const early = takeableEarlySession(this.context.options.early, this.context.options.url);
    let ws: WebSocketLike;
    try {
      ws = early?.socket ?? new this.context.options.WebSocket(this.context.options.url);
    } catch (err) {
      this.onSocketClosed(CloseCode.ABNORMAL, err instanceof Error ? err.message : String(err));
      return;
    }
    this.ws = ws;
    this.isRegistered = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.sendNow('hello', helloData(this.context.options.clientInfo, this.resume, this.context.options.capabilities));
      this.hooks.helloSent(this.resume === null);
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.ws !== ws) return;
      if (typeof ev.data !== 'string') {
        this.context.localError('INVALID_SERVER_MESSAGE', 'The server sent a binary frame.');
        return;
      }
      this.handleText(ev.data);
    };
    ws.onerror = () => {
      /* a close event follows; its code says what happened */
    };
    ws.onclose = (ev: { code?: number; reason?: string }) => {
      if (this.ws !== ws) return;
      this.onSocketClosed(typeof ev.code === 'number' ? ev.code : CloseCode.ABNORMAL, typeof ev.reason === 'string' ? ev.reason : '');
    };
    if (early) this.carryOn(early, ws);
  }

  /**
   * Takes over the boot script's session on its socket: what it sent counts as sent, and what the socket
   * dispatched before the handlers above were set is handled now, in order. Nothing can be dispatched
   * between here and the microtask (same task); the boot stops at `taken`.
   */
  private carryOn(early: EarlySession, ws: WebSocketLike): void {
    early.taken = true;
    queueMicrotask(() => {
      if (this.ws !== ws) return;
      if (early.opened && early.hello) this.hooks.helloSent(true, early.requestOffer ?? undefined);
      else if (early.opened) ws.onopen?.({});
      const consumed = new Set(early.consumed);
      early.messages.forEach((text, i) => {
        if (!consumed.has(i) && this.ws === ws) this.handleText(text);
      });
      early.messages = [];
      if (early.closed && this.ws === ws) this.onSocketClosed(early.closed.code, early.closed.reason);
    });
  }

  private onSocketClosed(code: number, reason: string): void {
    const { options, metrics, emit } = this.context;
    this.ws = null;
    this.isRegistered = false;
    this.liveness.stopHeartbeat();
    metrics.markDisconnected();
    this.failWaiters(new StreamgateError('DISCONNECTED', `The connection closed (${code}${reason ? ': ' + reason : ''}).`, 'client'));
    if (this.deliberate) {
      emit('close', { code, reason, willReconnect: false });
      return;
    }
    const retry = options.autoReconnect && shouldReconnect(code) && this.attempt < options.maxRetries;
    emit('close', { code, reason, willReconnect: retry });
    if (retry) {
      const delayMs = backoffDelay(this.attempt, options.backoff);
      this.attempt++;
      options.logger.info(`streamgate: connection closed (${code}), reconnecting in ${delayMs} ms (attempt ${this.attempt})`);
      this.setState('reconnecting', { delayMs, retryAt: Date.now() + delayMs, attempt: this.attempt, closeCode: code, closeReason: reason });
      this.reconnectTimer = setTimeout(() => this.openSocket(), delayMs);
      return;
    }
    const error = new StreamgateError(
      'CONNECTION_FAILED',
      code === CloseCode.REPLACED
        ? 'This session was taken over by a newer connection.'
        : `The connection closed (${code}${reason ? ': ' + reason : ''})${this.attempt >= options.maxRetries && shouldReconnect(code) ? ' and the retries are exhausted' : ''}.`,
      'client',
      String(code),
    );
    this.hooks.ended();
    this.resume = null; // REPLACED handed the session on; POLICY refused it: never resume it
    this.setState('closed', { closeCode: code, closeReason: reason, error });
    this.connectWaiters.rejectAll(error);
  }

  /** Pings fail; so does whatever the owner waits for; after disconnect(), connect() too. */
  private failWaiters(error: StreamgateError): void {
    this.liveness.fail(error);
    this.hooks.disconnected(error);
    if (this.deliberate) this.connectWaiters.rejectAll(error);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setState(state: ConnectionState, extra: Omit<StateChange, 'state' | 'previous'>): void {
    const previous = this.currentState;
    if (previous === state && state !== 'reconnecting' && state !== 'connecting') return;
    this.currentState = state;
    this.context.emit('state', { state, previous, ...extra });
  }

  // ---------------------------------------------------------------- sending

  envelope<T extends ClientMessageType>(type: T, data: ClientMessageData<T> | Record<string, unknown>): OutgoingMessage {
    return this.envelopes.wrap(type, data);
  }

  /** Sends on the socket now; false when it is not open. */
  transmit(message: OutgoingMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WS_OPEN) return false;
    const text = JSON.stringify(message);
    const limit = this.lastWelcome?.session_config.max_message_size;
    if (limit && byteLength(text) > limit) {
      this.context.localError('MESSAGE_TOO_LARGE', `A ${message.type} message of ${byteLength(text)} bytes exceeds the server's limit of ${limit}; not sent.`);
      return true; // handled: never retry it
    }
    try {
      ws.send(text);
    } catch (err) {
      this.context.options.logger.warn('streamgate: send failed', err);
      return false;
    }
    this.context.metrics.sent++;
    return true;
  }

  /** A message that belongs to this socket only (never queued): sent now if the socket is open. */
  sendNow<T extends ClientMessageType>(type: T, data: ClientMessageData<T>): void {
    this.transmit(this.envelope(type, data));
  }

  /** Sends when registered; otherwise keeps the message in the offline queue (drop-oldest). False when closed. */
  sendOrQueue(message: OutgoingMessage): boolean {
    if (this.isRegistered && this.transmit(message)) return true;
    if (this.deliberate || this.currentState === 'closed') return false;
    const dropped = this.queue.enqueue(message);
    if (dropped) {
      this.context.options.logger.debug(`streamgate: offline queue full, dropped a ${dropped.type}`);
      this.hooks.dropped(dropped);
    }
    return true;
  }

  /** Sends what waited in the offline queue, oldest first, while the socket takes it. */
  flush(): void {
    for (const m of this.queue.drain()) {
      if (!this.transmit(m)) {
        this.queue.enqueue(m);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- receiving

  private handleText(text: string): void {
    this.context.metrics.received++;
    const msg = readServerMessage(text);
    if (typeof msg === 'string') {
      this.context.localError('INVALID_SERVER_MESSAGE', `Ignored a server message: ${msg}.`);
      return;
    }
    this.hooks.message(msg);
  }
}
