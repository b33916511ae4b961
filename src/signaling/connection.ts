import { randomUUID } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import {
  CLOSING_ERRORS,
  CloseCode,
  INPUT_MESSAGE_TYPES,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
  type PeerId,
  type ServerDataMessageType,
  type ServerMessage,
  type ServerMessageData,
} from '../protocol/index.js';
import { closesCounter, countError, countMessage, limitCounter, observeHandling } from '../metrics.js';
import type { Logger } from '../log.js';
import { AbuseMeter, TokenBucket, WindowBudget } from './rate-limiter.js';
import { Traffic } from './traffic.js';
import { ProtocolError } from './protocol-error.js';
import { OPEN_PRINCIPAL, type Principal } from '../auth/authenticator.js';

export interface ConnectionLimits {
  maxMessageSize: number;
  rateLimit: number;
  inputRateLimit: number;
  /** Outgoing bytes a peer may leave unread before it is dropped as a slow consumer. */
  maxBufferedBytes: number;
}

export interface ConnectionOptions {
  id: string;
  remoteAddress: string;
  limits: ConnectionLimits;
  serverTraffic: Traffic;
  log: Logger;
  /** Handles one validated message; a thrown error becomes INTERNAL_ERROR with a correlation id. */
  dispatch: (connection: Connection, message: ClientMessage) => Promise<void> | void;
  onClose: (connection: Connection, code: number, reason: string) => void;
}

let serverMessageCounter = 0;

/** What the input data channel carries: input, and ping for measuring its round trip. */
const CHANNEL_MESSAGE_TYPES: ReadonlySet<string> = new Set([...INPUT_MESSAGE_TYPES, 'ping']);
/** RATE_LIMITED replies per second before further drops go unanswered. */
const LIMITED_REPLIES_PER_SECOND = 10;
/** Error log lines per connection and second; past that they are counted and the count is logged with the next line. */
const LOGGED_ERRORS_PER_SECOND = 5;
/** A frame costs one token of the frame budget and one more per this many bytes: decoding costs grow with size. */
const FRAME_TOKEN_BYTES = 1024;
/**
 * What a message that fails validation (or a binary frame) costs of the non-input budget: a correct client
 * sends none, and each costs the server an error reply. A garbage flood so meets its budget five times sooner,
 * even from a peer that only gets its fair share of a busy server.
 */
const INVALID_MESSAGE_COST = 5;
/** How long the socket of a connection over a budget goes unread (a tenth of a second's budget refills meanwhile). */
const OVER_BUDGET_PAUSE_MS = 100;

/**
 * One WebSocket: frame limits, rate limits, validation at the edge, and the envelope of everything sent back.
 * It knows nothing of what messages mean; `dispatch` does.
 */
export class Connection {
  readonly id: string;
  readonly remoteAddress: string;
  readonly traffic: Traffic;
  readonly openedAt = Date.now();
  readonly log: Logger;
  lastSeen = performance.now();
  /** Who the credentials say this is; everyone controls when auth is off. */
  principal: Principal = OPEN_PRINCIPAL;
  /** The client's own peer_id from its hello, echoed in the same JSON type. */
  peerId: PeerId | undefined;
  private readonly controlBucket: TokenBucket;
  private readonly inputBucket: TokenBucket;
  /**
   * Every frame, WebSocket or data channel, pays here before it is decoded: as many frames a second as both
   * message budgets together, large frames costing more; a flood past it is dropped at O(1) a frame.
   */
  private readonly frameBucket: TokenBucket;
  /** Drops by any budget: some in three consecutive quarter-seconds make a flood, not a burst. */
  private readonly abuse = new AbuseMeter();
  /** Set while the socket goes unread because a budget ran out: TCP pushes back on the peer meanwhile. */
  private resumeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The code the server closed with, if it did: a peer may echo another one, or none (ABNORMAL). */
  private serverCloseCode: number | undefined;
  private terminateTimer: NodeJS.Timeout | undefined;
  /** RATE_LIMITED replies sent in the current second: past a few, drops are silent (replies would amplify a flood). */
  private readonly limitedReplies = new WindowBudget(LIMITED_REPLIES_PER_SECOND);
  /** Error lines logged in the current second, and those left out: a view-only peer's 60 Hz moves must not become 60 log lines a second. */
  private readonly loggedErrors = new WindowBudget(LOGGED_ERRORS_PER_SECOND);

  constructor(
    private readonly ws: WebSocket,
    private readonly options: ConnectionOptions,
  ) {
    this.id = options.id;
    this.remoteAddress = options.remoteAddress;
    this.log = options.log;
    this.traffic = new Traffic(options.serverTraffic);
    const { rateLimit, inputRateLimit } = options.limits;
    this.controlBucket = new TokenBucket(rateLimit, rateLimit * 2);
    this.inputBucket = new TokenBucket(inputRateLimit, inputRateLimit * 2);
    this.frameBucket = new TokenBucket(rateLimit + inputRateLimit, (rateLimit + inputRateLimit) * 2);
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('pong', () => this.markAlive());
    ws.on('ping', () => this.markAlive());
    ws.on('error', (err) => this.log.warn({ err: err.message }, 'websocket error'));
    ws.on('close', (code, reason) => {
      this.closed = true;
      clearTimeout(this.terminateTimer);
      clearTimeout(this.resumeTimer);
      options.onClose(this, this.serverCloseCode ?? code, reason.toString());
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  markAlive(): void {
    this.lastSeen = performance.now();
  }

  ping(): void {
    if (this.isOpen) this.ws.ping();
  }

  send<T extends ServerDataMessageType>(type: T, data: ServerMessageData<T>, replyTo?: string, peerId?: PeerId): void {
    this.write(this.stamp({ type, data } as ServerMessage, replyTo, peerId));
  }

  /**
   * Sends on the peer's data channel when `channel` takes the text (false: none is open), else on the WebSocket;
   * the envelope is the same either way.
   */
  sendVia<T extends ServerDataMessageType>(channel: ((text: string) => boolean) | undefined, type: T, data: ServerMessageData<T>): void {
    const message = this.stamp({ type, data } as ServerMessage, undefined, undefined);
    if (channel && this.isOpen) {
      const text = JSON.stringify(message);
      if (channel(text)) {
        this.traffic.sent(Buffer.byteLength(text));
        countMessage('out', message.type);
        return;
      }
    }
    this.write(message);
  }

  sendError(code: ErrorCode, message: string, details?: string, replyTo?: string, peerId?: PeerId): void {
    countError(code);
    this.logError(code, message, details, replyTo);
    const error = details === undefined ? { code, message } : { code, message, details };
    this.write(this.stamp({ type: 'error', error } as ServerMessage, replyTo, peerId));
    const closeCode = CLOSING_ERRORS[code];
    if (closeCode !== undefined) this.close(closeCode, code);
  }

  private logError(code: ErrorCode, message: string, details: string | undefined, replyTo: string | undefined): void {
    if (!this.log.isLevelEnabled('info') || !this.loggedErrors.take()) return;
    const suppressed = this.loggedErrors.takeRefused();
    this.log.info({ code, details, reply_to: replyTo, ...(suppressed ? { suppressed_before: suppressed } : {}) }, `error sent: ${message}`);
  }

  close(code: CloseCode, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.serverCloseCode = code;
    closesCounter.inc({ code: String(code) });
    // Close reasons are limited to 123 bytes by RFC 6455.
    this.ws.close(code, reason.slice(0, 120));
    // A peer that never answers the close handshake must not hold the socket.
    this.terminateTimer = setTimeout(() => this.ws.terminate(), 2000);
    this.terminateTimer.unref();
  }

  /** Adds the envelope fields in place: built field by field, since spreads per message showed as GC in the profile. */
  private stamp(message: ServerMessage, replyTo: string | undefined, peerId: PeerId | undefined): ServerMessage {
    const id = peerId ?? this.peerId;
    if (id !== undefined) message.peer_id = id;
    message.message_id = `srv_${(++serverMessageCounter).toString(36)}`;
    message.timestamp = Date.now();
    if (replyTo !== undefined) message.reply_to = replyTo;
    return message;
  }

  private write(message: ServerMessage): void {
    if (!this.isOpen) return;
    if (this.ws.bufferedAmount > this.options.limits.maxBufferedBytes) {
      limitCounter.inc({ limit: 'slow_consumer' });
      this.log.warn({ buffered: this.ws.bufferedAmount }, 'dropping slow consumer');
      this.close(CloseCode.POLICY, 'slow consumer: too much unread data');
      return;
    }
    const text = JSON.stringify(message);
    this.traffic.sent(Buffer.byteLength(text));
    countMessage('out', message.type);
    this.ws.send(text);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.markAlive();
    if (this.closed) return;
    // ws hands text and binary frames over as a Buffer already; Buffer.from(buffer) would copy every frame.
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.traffic.received(buffer.byteLength);
    // Refused before the budget, and without decoding: the refusal closes the connection.
    if (buffer.byteLength > this.options.limits.maxMessageSize) {
      limitCounter.inc({ limit: 'message_size' });
      this.sendError(
        'MESSAGE_TOO_LARGE',
        `The message is ${buffer.byteLength} bytes; the limit is ${this.options.limits.maxMessageSize}.`,
        `max_message_size=${this.options.limits.maxMessageSize}`,
      );
      return;
    }
    if (!this.withinBudget(buffer.byteLength, true)) return;
    if (isBinary) {
      countMessage('in', '(binary)');
      if (this.rateLimited(false, INVALID_MESSAGE_COST)) return;
      this.sendError('INVALID_MESSAGE', 'Binary frames are not accepted; send JSON text frames.', 'frame');
      return;
    }
    this.dispatchText(buffer.toString('utf8'));
  }

  /**
   * A message from the peer's `input` data channel: the same edge checks as a WebSocket frame, and only
   * input (and ping) may come this way; errors go back over the WebSocket.
   */
  dispatchChannelText(text: string): void {
    if (this.closed) return;
    const bytes = Buffer.byteLength(text);
    this.traffic.received(bytes);
    // A data channel cannot be paused: over budget, its messages are only dropped. Oversize ones pay by size
    // first, since their refusal does not close the connection.
    if (!this.withinBudget(bytes, false)) return;
    if (bytes > this.options.limits.maxMessageSize) {
      limitCounter.inc({ limit: 'message_size' });
      this.sendError('INVALID_MESSAGE', `A data-channel message of ${bytes} bytes is over the limit; it was dropped.`, `max_message_size=${this.options.limits.maxMessageSize}`);
      return;
    }
    this.dispatchText(text, CHANNEL_MESSAGE_TYPES);
  }

  /** Validates and handles one JSON text message; `allowed` narrows the types this path takes. */
  private dispatchText(text: string, allowed?: ReadonlySet<string>): void {
    if (this.closed) return;
    const parsed = parseClientMessage(text);
    const type = parsed.ok ? parsed.message.type : undefined;
    countMessage('in', type ?? '(invalid)');
    if (this.rateLimited(type !== undefined && INPUT_MESSAGE_TYPES.has(type), parsed.ok ? 1 : INVALID_MESSAGE_COST)) return;
    if (!parsed.ok) {
      this.sendError(parsed.code, parsed.message, parsed.details, parsed.partial.message_id, this.peerId ?? parsed.partial.peer_id);
      return;
    }
    if (allowed && !allowed.has(parsed.message.type)) {
      this.sendError('INVALID_MESSAGE', `"${parsed.message.type}" is not accepted on the input data channel; send it over the WebSocket.`, 'type', parsed.message.message_id);
      return;
    }
    this.handle(parsed.message);
  }

  /**
   * The first check of every frame, before any decoding: false when it must be dropped, at O(1). Which message
   * budget a frame pays is known only once it is decoded, so while the non-input budget is spent every frame
   * is dropped unread: only input could pass, and a peer that overran that budget is misbehaving already.
   * Over budget, the socket (`pausable`) goes unread for a moment: the flood waits in the peer's TCP buffers.
   */
  private withinBudget(size: number, pausable: boolean): boolean {
    if (!this.controlBucket.holds()) {
      if (pausable) this.pauseReading();
      this.refuse('message_rate', 'Too many messages per second; this one was dropped.', 'rate_limit');
      return false;
    }
    if (this.frameBucket.take(1 + Math.floor(size / FRAME_TOKEN_BYTES))) return true;
    if (pausable) this.pauseReading();
    this.refuse('frame_rate', 'Too many frames per second; this one was dropped unread.', 'frame_rate_limit');
    return false;
  }

  private pauseReading(): void {
    if (this.resumeTimer !== undefined) return;
    this.ws.pause();
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      if (!this.closed) this.ws.resume();
    }, OVER_BUDGET_PAUSE_MS);
    this.resumeTimer.unref();
  }

  /** True when the message must be dropped; answers RATE_LIMITED and closes persistent abusers with POLICY. */
  private rateLimited(isInput: boolean, cost = 1): boolean {
    if ((isInput ? this.inputBucket : this.controlBucket).take(cost)) return false;
    if (isInput) this.refuse('input_rate', 'Too many messages per second; this one was dropped.', 'input_rate_limit');
    else this.refuse('message_rate', 'Too many messages per second; this one was dropped.', 'rate_limit');
    return true;
  }

  /** Counts one dropped message: answered with RATE_LIMITED (a few a second), or the connection closed as a persistent abuser. */
  private refuse(limit: string, message: string, details: string): void {
    limitCounter.inc({ limit });
    if (this.abuse.drop()) {
      this.log.warn({ limit }, 'closing: persistent rate-limit abuse');
      this.sendError('RATE_LIMITED', 'Too many messages for too long; closing.', 'persistent');
      this.close(CloseCode.POLICY, 'rate limit abuse');
      return;
    }
    if (this.limitedReplies.take()) this.sendError('RATE_LIMITED', message, details);
  }

  /** Handles one message; synchronous handlers (ping, input) finish without a promise, async ones report when done. */
  private handle(message: ClientMessage): void {
    const since = performance.now();
    let result: Promise<void> | void;
    try {
      result = this.options.dispatch(this, message);
    } catch (err) {
      this.reportFailure(err, message);
      observeHandling(message.type, since);
      return;
    }
    if (result === undefined) {
      observeHandling(message.type, since);
      return;
    }
    result.then(
      () => observeHandling(message.type, since),
      (err: unknown) => {
        this.reportFailure(err, message);
        observeHandling(message.type, since);
      },
    );
  }

  private reportFailure(err: unknown, message: ClientMessage): void {
    if (err instanceof ProtocolError) {
      this.sendError(err.code, err.message, err.details, message.message_id, this.peerId ?? message.peer_id);
      return;
    }
    const correlationId = randomUUID();
    this.log.error({ err, correlationId, type: message.type }, 'internal error while handling a message');
    this.sendError('INTERNAL_ERROR', 'The server failed to handle this message; it has been logged.', `correlation_id=${correlationId}`, message.message_id);
  }

}

