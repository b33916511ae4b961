/**
 * StreamgateClient: one signaling connection (with automatic reconnect and session resume), one
 * RTCPeerConnection receiving the server's stream, and input sent over the data channel when the
 * server offers one. Runs in browsers and in Node (inject `ws` and, for media, an RTCPeerConnection).
 */
import type {
  ClientMessageData,
  ClientMessageType,
  ErrorBody,
  IceCandidate,
  MouseButton,
  PeerId,
  ServerMessage,
  ServerMessageData,
  SessionConfig,
  StatsSection,
} from '../protocol/index.js';
import { INPUT_CHANNEL_LABEL as INPUT_CHANNEL, PRESS_RELEASE_CAPABILITY as PRESS_RELEASE } from '../protocol/constants.js';
import { backoffDelay, shouldReconnect } from './backoff.js';
import { resolveOptions, type ResolvedOptions, type StreamgateClientOptions, type WebSocketLike } from './config.js';
import { TypedEmitter } from './emitter.js';
import { StreamgateError } from './errors.js';
import { InputController, type InputOptions, type InputSink, type KeyInput, type ModifierState } from './input.js';
import { summarizeStats, type MediaStatsSummary } from './media-stats.js';
import { MetricsRecorder, type ClientMetrics } from './metrics.js';
import { MessageQueue } from './queue.js';

export const CLIENT_VERSION = '0.1.0';

/**
 * idle: before connect() · connecting: opening the socket, waiting for welcome · open: registered ·
 * live: registered and the peer connection is connected · reconnecting: waiting `delayMs` before the
 * next attempt · closed: stopped (disconnect(), a close that must not be retried, or retries exhausted).
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'live' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** reconnecting: ms until the next attempt, and when (Date.now() clock). */
  delayMs?: number;
  retryAt?: number;
  /** reconnecting/connecting: attempt number within this outage (1-based). */
  attempt?: number;
  /** The WebSocket close that led here. */
  closeCode?: number;
  closeReason?: string;
  /** closed: why, when it was not a deliberate disconnect(). */
  error?: StreamgateError;
}

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
export type WelcomeMessage = Msg<'welcome'>;
export type OfferMessage = Msg<'offer'>;
export type IceCandidateMessage = Msg<'ice-candidate'>;
export type PongMessage = Msg<'pong'>;
export type StatsMessage = Msg<'stats'>;
export type ControlMessage = Msg<'control'>;
export type ErrorMessage = Msg<'error'>;
export type WelcomeData = ServerMessageData<'welcome'>;
export type StatsData = ServerMessageData<'stats'>;

export interface StreamgateClientEvents {
  state: StateChange;
  /** Every server message, after its typed event. */
  message: ServerMessage;
  welcome: WelcomeMessage;
  offer: OfferMessage;
  'ice-candidate': IceCandidateMessage;
  pong: PongMessage;
  stats: StatsMessage;
  control: ControlMessage;
  /** A server `error` message (source 'server') or a local failure (source 'client'). */
  error: StreamgateError;
  /** A measured ping round trip. */
  latency: { rtt: number; sequence: number };
  /** A remote track arrived; `stream` holds every remote track so far. */
  track: { track: MediaStreamTrack; stream: MediaStream | null };
  /** RTCPeerConnection.connectionState changes. */
  'peer-state': RTCPeerConnectionState;
  /** The input data channel opened (true) or closed (false). */
  'input-channel': boolean;
  /** The WebSocket closed. */
  close: { code: number; reason: string; willReconnect: boolean };
}

export interface OfferOptions {
  constraints?: { video?: boolean; audio?: boolean };
  codecPreferences?: string[];
}

type OutgoingMessage = {
  type: ClientMessageType;
  peer_id: PeerId;
  message_id: string;
  timestamp: number;
  data: Record<string, unknown>;
};

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: StreamgateError) => void;
  timer: ReturnType<typeof setTimeout>;
}

const WS_OPEN = 1;
const monotonic = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The `a=fingerprint` of an SDP: a different one means a different remote peer connection (not a renegotiation). */
function fingerprintOf(sdp: string): string | null {
  return /^a=fingerprint:(.+)$/m.exec(sdp)?.[1]?.trim() ?? null;
}

/** Light structural check of a server frame; the types past it are the protocol's. */
function readServerMessage(text: string): ServerMessage | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const m = raw as Record<string, unknown>;
  if (typeof m.type !== 'string') return 'no `type`';
  if (m.type === 'error') {
    const e = m.error as Record<string, unknown> | undefined;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string') return 'error without `error.code`';
    return raw as ServerMessage;
  }
  if (typeof m.data !== 'object' || m.data === null) return `${m.type} without \`data\``;
  const d = m.data as Record<string, unknown>;
  if (m.type === 'welcome' && typeof d.session_id !== 'string') return 'welcome without `session_id`';
  if (m.type === 'offer' && typeof (d.sdp as { sdp?: unknown } | undefined)?.sdp !== 'string') return 'offer without `sdp.sdp`';
  if (m.type === 'ice-candidate' && typeof (d.candidate as { candidate?: unknown } | undefined)?.candidate !== 'string') {
    return 'ice-candidate without `candidate.candidate`';
  }
  return raw as ServerMessage;
}

export class StreamgateClient extends TypedEmitter<StreamgateClientEvents> implements InputSink {
  readonly options: ResolvedOptions;
  private ws: WebSocketLike | null = null;
  private registered = false;
  private currentState: ConnectionState = 'idle';
  private deliberate = false;
  private attempt = 0;
  private everWelcomed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastWelcome: WelcomeData | null = null;
  private resume: { session_id: string; resume_token: string } | null = null;
  private readonly queue: MessageQueue<OutgoingMessage>;
  private readonly metrics = new MetricsRecorder(100);
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private messageCounter = 0;
  private pingSequence = 0;
  private readonly pings = new Map<number, Pending<number> & { sentAt: number; id: string }>();
  private readonly requests = new Map<string, Pending<unknown> & { type: ClientMessageType }>();
  private connectWaiters: { resolve: (w: WelcomeData) => void; reject: (e: StreamgateError) => void }[] = [];

  // Media
  private streaming: { constraints: { video: boolean; audio: boolean }; codecPreferences: string[] } | null = null;
  private pc: RTCPeerConnection | null = null;
  private remoteFingerprint: string | null = null;
  private remoteReady = false;
  private pendingRemoteCandidates: RTCIceCandidateInit[] = [];
  private heldLocalCandidates: RTCIceCandidate[] | null = null;
  private negotiation: Promise<void> = Promise.resolve();
  private offerWaiters: { id: string; resolve: () => void; reject: (e: StreamgateError) => void; timer: ReturnType<typeof setTimeout> }[] = [];
  private inputChannel: RTCDataChannel | null = null;
  private remoteStream: MediaStream | null = null;
  private readonly videos = new Set<HTMLVideoElement>();
  private lastMediaStats: MediaStatsSummary | null = null;
  private restartedAfterFailure = false;

  constructor(options: StreamgateClientOptions) {
    super();
    this.options = resolveOptions(options);
    this.queue = new MessageQueue(this.options.maxQueueSize);
    if (this.options.video) this.videos.add(this.options.video);
  }

  // ---------------------------------------------------------------- lifecycle

  get state(): ConnectionState {
    return this.currentState;
  }

  get peerId(): PeerId {
    return this.options.peerId;
  }

  /** The last welcome's session (id, resume token, config), or null before the first. */
  get session(): WelcomeData | null {
    return this.lastWelcome;
  }

  get sessionConfig(): SessionConfig | null {
    return this.lastWelcome?.session_config ?? null;
  }

  /** The remote stream (every track received), or null. */
  get stream(): MediaStream | null {
    return this.remoteStream;
  }

  get peerConnection(): RTCPeerConnection | null {
    return this.pc;
  }

  /** True when input currently travels over the WebRTC data channel. */
  get usingDataChannel(): boolean {
    return this.inputChannel?.readyState === 'open';
  }

  /**
   * Opens the connection and resolves with the welcome's data. While reconnect is on, failed
   * attempts are retried with backoff and the promise waits; it rejects when the client gives up
   * (a close that must not be retried, `maxRetries` exhausted, or disconnect()).
   */
  connect(): Promise<WelcomeData> {
    const promise = new Promise<WelcomeData>((resolve, reject) => {
      this.connectWaiters.push({ resolve, reject });
    });
    if (this.currentState === 'open' || this.currentState === 'live') {
      this.settleConnect(this.lastWelcome!);
    } else if (this.currentState === 'idle' || this.currentState === 'closed') {
      this.deliberate = false;
      this.attempt = 0;
      this.openSocket();
    }
    return promise;
  }

  /** Closes everything for good: no reconnect, the peer connection closed, the session forgotten. */
  async disconnect(): Promise<void> {
    this.deliberate = true;
    this.clearReconnectTimer();
    this.stopHeartbeat();
    this.streaming = null;
    this.closePeer();
    this.queue.clear();
    this.resume = null;
    const ws = this.ws;
    this.ws = null;
    this.registered = false;
    const closed = ws ? this.waitForSocketClose(ws) : Promise.resolve();
    if (ws) {
      try {
        ws.close(1000, 'client disconnect');
      } catch {
        /* already closing */
      }
    }
    this.failPending(new StreamgateError('DISCONNECTED', 'The client disconnected.', 'client'));
    this.metrics.markDisconnected();
    this.setState('closed', {});
    await closed;
  }

  /** Resolves when the state becomes `state` (immediately if it is). */
  waitFor(state: ConnectionState): Promise<StateChange> {
    if (this.currentState === state) return Promise.resolve({ state, previous: state });
    return this.next('state', (s) => s.state === state);
  }

  private waitForSocketClose(ws: WebSocketLike): Promise<void> {
    if (ws.readyState === 3) return Promise.resolve();
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

  private openSocket(): void {
    this.reconnectTimer = null;
    this.setState('connecting', this.attempt > 0 ? { attempt: this.attempt } : {});
    let ws: WebSocketLike;
    try {
      ws = new this.options.WebSocket(this.options.url);
    } catch (err) {
      this.onSocketClosed(1006, err instanceof Error ? err.message : String(err));
      return;
    }
    this.ws = ws;
    this.registered = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.sendHello();
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.ws !== ws) return;
      if (typeof ev.data !== 'string') {
        this.localError('INVALID_SERVER_MESSAGE', 'The server sent a binary frame.');
        return;
      }
      this.handleText(ev.data);
    };
    ws.onerror = () => {
      /* a close event follows; its code says what happened */
    };
    ws.onclose = (ev: { code?: number; reason?: string }) => {
      if (this.ws !== ws) return;
      this.onSocketClosed(typeof ev.code === 'number' ? ev.code : 1006, typeof ev.reason === 'string' ? ev.reason : '');
    };
  }

  private sendHello(): void {
    const nav = typeof navigator !== 'undefined' ? navigator : undefined;
    const clientInfo: Record<string, unknown> = { sdk: 'streamgate-client', sdk_version: CLIENT_VERSION };
    if (nav?.userAgent) clientInfo.user_agent = nav.userAgent;
    if (nav?.language) clientInfo.language = nav.language;
    if (typeof screen !== 'undefined') clientInfo.screen_resolution = `${screen.width}x${screen.height}`;
    if (typeof devicePixelRatio === 'number') clientInfo.device_pixel_ratio = devicePixelRatio;
    const data: ClientMessageData<'hello'> = {
      client_info: { ...clientInfo, ...this.options.clientInfo },
      capabilities: ['webrtc', 'video', 'audio', 'input-events', 'mouse-wheel', PRESS_RELEASE, 'data-channel', 'resume'],
      supported_protocols: ['1.0'],
    };
    if (this.resume) {
      data.session_id = this.resume.session_id;
      data.resume_token = this.resume.resume_token;
    }
    this.transmit(this.envelope('hello', data));
  }

  private onSocketClosed(code: number, reason: string): void {
    this.ws = null;
    this.registered = false;
    this.stopHeartbeat();
    this.metrics.markDisconnected();
    this.failPending(new StreamgateError('DISCONNECTED', `The connection closed (${code}${reason ? ': ' + reason : ''}).`, 'client'));
    this.inputChannelClosed();
    if (this.deliberate) {
      this.emit('close', { code, reason, willReconnect: false });
      return;
    }
    const retry = this.options.autoReconnect && shouldReconnect(code) && this.attempt < this.options.maxRetries;
    this.emit('close', { code, reason, willReconnect: retry });
    if (retry) {
      const delayMs = backoffDelay(this.attempt, this.options.backoff);
      this.attempt++;
      this.options.logger.info(`streamgate: connection closed (${code}), reconnecting in ${delayMs} ms (attempt ${this.attempt})`);
      this.setState('reconnecting', { delayMs, retryAt: Date.now() + delayMs, attempt: this.attempt, closeCode: code, closeReason: reason });
      this.reconnectTimer = setTimeout(() => this.openSocket(), delayMs);
      return;
    }
    const error = new StreamgateError(
      'CONNECTION_FAILED',
      code === 4001
        ? 'This session was taken over by a newer connection.'
        : `The connection closed (${code}${reason ? ': ' + reason : ''})${this.attempt >= this.options.maxRetries && shouldReconnect(code) ? ' and the retries are exhausted' : ''}.`,
      'client',
      String(code),
    );
    this.streaming = null;
    this.resume = null; // 4001 handed the session on; 1008 refused it: never resume it
    this.closePeer();
    this.setState('closed', { closeCode: code, closeReason: reason, error });
    for (const w of this.connectWaiters.splice(0)) w.reject(error);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setState(state: ConnectionState, extra: Omit<StateChange, 'state' | 'previous'>): void {
    const previous = this.currentState;
    if (previous === state && state !== 'reconnecting' && state !== 'connecting') return;
    this.currentState = state;
    this.emit('state', { state, previous, ...extra });
  }

  /** open ↔ live follows the peer connection while registered. */
  private updateLive(): void {
    if (!this.registered) return;
    const live = this.pc?.connectionState === 'connected';
    this.setState(live ? 'live' : 'open', {});
  }

  private settleConnect(data: WelcomeData): void {
    for (const w of this.connectWaiters.splice(0)) w.resolve(data);
  }

  // ---------------------------------------------------------------- sending

  private envelope<T extends ClientMessageType>(type: T, data: ClientMessageData<T> | Record<string, unknown>): OutgoingMessage {
    return {
      type,
      peer_id: this.options.peerId,
      message_id: `${this.idPrefix}_${Date.now().toString(36)}_${++this.messageCounter}`,
      timestamp: Date.now(),
      data: data as Record<string, unknown>,
    };
  }

  /** Sends on the socket now; false when it is not open. */
  private transmit(message: OutgoingMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WS_OPEN) return false;
    const text = JSON.stringify(message);
    const limit = this.lastWelcome?.session_config.max_message_size;
    if (limit && byteLength(text) > limit) {
      this.localError('MESSAGE_TOO_LARGE', `A ${message.type} message of ${byteLength(text)} bytes exceeds the server's limit of ${limit}; not sent.`);
      return true; // handled: never retry it
    }
    try {
      ws.send(text);
    } catch (err) {
      this.options.logger.warn('streamgate: send failed', err);
      return false;
    }
    this.metrics.sent++;
    return true;
  }

  /** Sends when registered; otherwise keeps the message in the offline queue (drop-oldest). False when closed. */
  private sendOrQueue(message: OutgoingMessage): boolean {
    if (this.registered && this.transmit(message)) return true;
    if (this.deliberate || this.currentState === 'closed') return false;
    const dropped = this.queue.enqueue(message);
    if (dropped) {
      this.options.logger.debug(`streamgate: offline queue full, dropped a ${dropped.type}`);
      this.rejectRequest(dropped.message_id, new StreamgateError('DISCONNECTED', `The ${dropped.type} was dropped from the full offline queue.`, 'client'));
    }
    return true;
  }

  private rejectRequest(id: string, error: StreamgateError): void {
    const r = this.requests.get(id);
    if (!r) return;
    this.requests.delete(id);
    clearTimeout(r.timer);
    r.reject(error);
  }

  private flushQueue(): void {
    for (const m of this.queue.drain()) {
      if (!this.transmit(m)) {
        this.queue.enqueue(m);
        return;
      }
    }
  }

  /**
   * Sends any protocol message (queued while offline). Most users want the typed helpers; this is
   * for extensions such as `request-control`.
   */
  send<T extends ClientMessageType>(type: T, data: ClientMessageData<T> | Record<string, unknown> = {}): string {
    const m = this.envelope(type, data);
    this.sendOrQueue(m);
    return m.message_id;
  }

  /** Sends a message and resolves with the server's reply of type `replyType` (matched by reply_to, else in order). */
  private request<T>(type: ClientMessageType, data: Record<string, unknown>): Promise<T> {
    const m = this.envelope(type, data);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(m.message_id);
        reject(new StreamgateError('TIMEOUT', `No answer to ${type} within ${this.options.requestTimeoutMs} ms.`, 'client'));
      }, this.options.requestTimeoutMs);
      this.requests.set(m.message_id, { type, resolve: resolve as (v: unknown) => void, reject, timer });
      if (!this.sendOrQueue(m)) this.rejectRequest(m.message_id, new StreamgateError('DISCONNECTED', `Not connected: call connect() before ${type}.`, 'client'));
    });
  }

  private settleRequest(type: ClientMessageType, replyTo: string | undefined, value: unknown): void {
    let id = replyTo && this.requests.get(replyTo)?.type === type ? replyTo : undefined;
    if (!id) for (const [k, r] of this.requests) if (r.type === type) (id = k);
    if (!id) return;
    const r = this.requests.get(id)!;
    this.requests.delete(id);
    clearTimeout(r.timer);
    r.resolve(value);
  }

  private failPending(error: StreamgateError): void {
    for (const [, p] of this.pings) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pings.clear();
    // Requests in the offline queue stay pending: they are sent after reconnect (until their timeout).
    const queued = new Set(this.queue.peekAll().map((m) => m.message_id));
    for (const id of [...this.requests.keys()]) {
      if (queued.has(id) && !this.deliberate) continue;
      this.rejectRequest(id, error);
    }
    if (this.deliberate) {
      for (const w of this.offerWaiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(error);
      }
      for (const w of this.connectWaiters.splice(0)) w.reject(error);
    }
  }

  // ---------------------------------------------------------------- receiving

  private handleText(text: string): void {
    this.metrics.received++;
    const msg = readServerMessage(text);
    if (typeof msg === 'string') {
      this.localError('INVALID_SERVER_MESSAGE', `Ignored a server message: ${msg}.`);
      return;
    }
    switch (msg.type) {
      case 'welcome':
        this.onWelcome(msg);
        break;
      case 'offer':
        this.emit('offer', msg);
        this.onOffer(msg);
        break;
      case 'ice-candidate':
        this.emit('ice-candidate', msg);
        this.onRemoteCandidate(msg.data.candidate);
        break;
      case 'pong':
        this.onPong(msg);
        this.emit('pong', msg);
        break;
      case 'stats':
        this.emit('stats', msg);
        this.settleRequest('get-stats', msg.reply_to, msg.data);
        break;
      case 'control':
        this.emit('control', msg);
        break;
      case 'error':
        this.onServerError(msg);
        break;
      default:
        this.options.logger.debug(`streamgate: ignoring unknown server message type "${(msg as { type: string }).type}"`);
    }
    this.emit('message', msg);
  }

  private onWelcome(msg: WelcomeMessage): void {
    const data = msg.data;
    const reconnected = this.everWelcomed;
    const previousSession = this.resume?.session_id;
    this.lastWelcome = data;
    this.everWelcomed = true;
    if (typeof data.resume_token === 'string') this.resume = { session_id: data.session_id, resume_token: data.resume_token };
    this.attempt = 0;
    if (!this.registered) {
      this.registered = true;
      this.metrics.markConnected(Date.now());
      if (reconnected) this.metrics.reconnects++;
    }
    // A new server session (restart, or resume refused) cannot continue the old peer connection.
    if (reconnected && this.pc && !(data.resumed === true && data.session_id === previousSession)) this.closePeer();
    this.startHeartbeat();
    this.emit('welcome', msg);
    this.updateLive();
    this.flushQueue();
    // The stream was asked for (before this welcome, or on the connection that was lost): ask again.
    if (this.streaming) this.sendOfferRequest();
    this.settleConnect(data);
  }

  private onServerError(msg: ErrorMessage): void {
    const body: ErrorBody = msg.error;
    const error = new StreamgateError(body.code, body.message, 'server', body.details, msg.reply_to);
    this.metrics.errors++;
    if (msg.reply_to) {
      this.rejectRequest(msg.reply_to, error);
      const p = [...this.pings.entries()].find(([, v]) => v.id === msg.reply_to);
      if (p) {
        this.pings.delete(p[0]);
        clearTimeout(p[1].timer);
        p[1].reject(error);
      }
    }
    const offerFailure = body.code === 'UNSUPPORTED_CODEC' || body.code === 'MEDIA_UNAVAILABLE';
    const answered = this.offerWaiters.filter((w) => w.id === msg.reply_to || (offerFailure && !msg.reply_to));
    for (const w of answered) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.offerWaiters = this.offerWaiters.filter((w) => !answered.includes(w));
    this.emit('error', error);
  }

  private localError(code: StreamgateError['code'], message: string, cause?: unknown): StreamgateError {
    const error = new StreamgateError(code, message, 'client', undefined, undefined, cause === undefined ? undefined : { cause });
    this.metrics.errors++;
    this.options.logger.warn(`streamgate: ${message}`);
    this.emit('error', error);
    return error;
  }

  // ---------------------------------------------------------------- ping, stats, metrics

  /** Sends a ping and resolves with the round trip in ms (measured with a monotonic clock). */
  ping(clientState?: string): Promise<number> {
    const sequence = ++this.pingSequence;
    const m = this.envelope('ping', { client_state: clientState ?? this.currentState, sequence });
    return new Promise<number>((resolve, reject) => {
      if (!this.registered && !(this.ws && this.ws.readyState === WS_OPEN)) {
        reject(new StreamgateError('DISCONNECTED', 'Not connected: a ping is not queued.', 'client'));
        return;
      }
      const timer = setTimeout(() => {
        this.pings.delete(sequence);
        reject(new StreamgateError('TIMEOUT', `No pong within ${this.options.requestTimeoutMs} ms.`, 'client'));
      }, this.options.requestTimeoutMs);
      this.pings.set(sequence, { resolve, reject, timer, sentAt: monotonic(), id: m.message_id });
      if (!this.transmit(m)) {
        clearTimeout(timer);
        this.pings.delete(sequence);
        reject(new StreamgateError('DISCONNECTED', 'Not connected: a ping is not queued.', 'client'));
      }
    });
  }

  /** The seed's name: fire-and-forget ping (the RTT arrives as a `latency` event). */
  sendPing(): void {
    this.ping().catch(() => {});
  }

  private onPong(msg: PongMessage): void {
    const seq = typeof msg.data.sequence === 'number' ? msg.data.sequence : Number(msg.data.sequence);
    let entry = this.pings.get(seq);
    let key = seq;
    if (!entry && msg.reply_to) {
      const found = [...this.pings.entries()].find(([, v]) => v.id === msg.reply_to);
      if (found) [key, entry] = found;
    }
    if (!entry) return;
    this.pings.delete(key);
    clearTimeout(entry.timer);
    const rtt = monotonic() - entry.sentAt;
    this.metrics.recordLatency(rtt);
    entry.resolve(rtt);
    this.emit('latency', { rtt, sequence: key });
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const hb = this.options.heartbeat;
    if (hb === false) return;
    const interval = typeof hb === 'number' ? hb : (this.lastWelcome?.session_config.heartbeat_interval ?? 30_000);
    this.heartbeatTimer = setInterval(() => this.sendPing(), Math.max(100, interval));
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Asks the server for stats (default all sections); queued while offline. */
  requestStats(sections: StatsSection[] = ['webrtc', 'system', 'network']): Promise<StatsData> {
    return this.request<StatsData>('get-stats', { stats_type: sections });
  }

  /** Counters across reconnects (sent, received, errors, latency average and last-100 window, uptime, queue). */
  getMetrics(): ClientMetrics {
    return this.metrics.snapshot(Date.now(), this.queue.size, this.queue.dropped);
  }

  /** The browser's own view of the stream (fps, resolution, bitrate, loss, codec, RTT), or null without video. */
  async getMediaStats(): Promise<MediaStatsSummary | null> {
    const pc = this.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    const summary = summarizeStats(report.values(), this.lastMediaStats);
    if (summary) this.lastMediaStats = summary;
    return summary;
  }

  // ---------------------------------------------------------------- media

  /**
   * Asks the server for its stream and negotiates it (the answer and local candidates are sent for
   * you). Resolves once the answer is sent; rejects with the server's error (e.g. UNSUPPORTED_CODEC).
   * Remembered: after a reconnect the stream is requested again by itself.
   */
  requestOffer(constraints?: OfferOptions['constraints'], codecPreferences?: string[]): Promise<void> {
    this.streaming = {
      constraints: { ...this.options.constraints, ...stripUndefined(constraints ?? {}) },
      codecPreferences: codecPreferences ?? this.streaming?.codecPreferences ?? this.options.codecPreferences,
    };
    if (!this.options.RTCPeerConnection) {
      const e = this.localError('NOT_SUPPORTED', 'No RTCPeerConnection here: pass one as the `RTCPeerConnection` option to receive media.');
      this.streaming = null;
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const id = this.registered ? this.sendOfferRequest() : 'pending';
      const timer = setTimeout(() => {
        this.offerWaiters = this.offerWaiters.filter((w) => w.timer !== timer);
        reject(new StreamgateError('TIMEOUT', `No offer within ${this.options.requestTimeoutMs} ms.`, 'client'));
      }, this.options.requestTimeoutMs);
      this.offerWaiters.push({ id, resolve, reject, timer });
      if (this.currentState === 'idle' || this.currentState === 'closed') this.connect().catch(() => {});
    });
  }

  /** Stops asking for the stream and closes the local peer connection. */
  stopStream(): void {
    this.streaming = null;
    this.closePeer();
    this.updateLive();
  }

  private sendOfferRequest(): string {
    const s = this.streaming!;
    const m = this.envelope('request-offer', { constraints: s.constraints, codec_preferences: s.codecPreferences });
    for (const w of this.offerWaiters) if (w.id === 'pending') w.id = m.message_id;
    this.transmit(m);
    return m.message_id;
  }

  /** Plays the stream in `video` (now, and after every renegotiation); returns a function that detaches it. */
  attachVideo(video: HTMLVideoElement): () => void {
    this.videos.add(video);
    if (this.remoteStream) this.showStream(video);
    return () => {
      this.videos.delete(video);
      if (video.srcObject === this.remoteStream) video.srcObject = null;
    };
  }

  private showStream(video: HTMLVideoElement): void {
    if (video.srcObject !== this.remoteStream) video.srcObject = this.remoteStream;
    const played = video.play?.();
    if (played && typeof played.catch === 'function') played.catch(() => {});
  }

  private createPeer(): RTCPeerConnection {
    const Ctor = this.options.RTCPeerConnection!;
    const config: RTCConfiguration = {
      ...this.options.rtcConfig,
      iceServers: this.options.rtcConfig.iceServers ?? (this.lastWelcome?.session_config.ice_servers as RTCIceServer[] | undefined) ?? [],
    };
    const pc = new Ctor(config);
    this.pc = pc;
    this.remoteStream = null; // a new peer connection's tracks make a new stream (old tracks have ended)
    this.remoteFingerprint = null;
    this.remoteReady = false;
    this.pendingRemoteCandidates = [];
    this.restartedAfterFailure = false;
    this.lastMediaStats = null;
    pc.onicecandidate = (ev) => {
      if (this.pc !== pc || !ev.candidate || !ev.candidate.candidate) return;
      if (this.heldLocalCandidates) this.heldLocalCandidates.push(ev.candidate);
      else this.sendLocalCandidate(ev.candidate);
    };
    pc.ontrack = (ev) => {
      if (this.pc !== pc) return;
      // werift's offer may lack a=msid: then `streams` is empty and the stream is built here.
      let stream = ev.streams?.[0] ?? this.remoteStream;
      if (!stream && typeof MediaStream === 'function') stream = new MediaStream();
      if (stream && !stream.getTracks().includes(ev.track)) stream.addTrack(ev.track);
      this.remoteStream = stream ?? null;
      for (const v of this.videos) this.showStream(v);
      this.emit('track', { track: ev.track, stream: this.remoteStream });
    };
    pc.ondatachannel = (ev) => {
      if (this.pc !== pc || ev.channel.label !== INPUT_CHANNEL) return;
      const ch = ev.channel;
      this.inputChannel = ch;
      const opened = (): void => {
        if (this.inputChannel === ch) this.emit('input-channel', true);
      };
      if (ch.readyState === 'open') opened();
      ch.onopen = opened;
      ch.onclose = () => {
        if (this.inputChannel === ch) this.inputChannelClosed();
      };
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      const s = pc.connectionState;
      this.emit('peer-state', s);
      if (s === 'connected') this.restartedAfterFailure = false;
      if (s === 'failed' && this.streaming && this.registered && !this.restartedAfterFailure) {
        // One ICE restart per failure: a new offer from the server.
        this.restartedAfterFailure = true;
        this.sendOfferRequest();
      }
      this.updateLive();
    };
    return pc;
  }

  private inputChannelClosed(): void {
    if (!this.inputChannel) return;
    this.inputChannel = null;
    this.emit('input-channel', false);
  }

  private closePeer(): void {
    const pc = this.pc;
    this.pc = null;
    this.remoteReady = false;
    this.pendingRemoteCandidates = [];
    this.heldLocalCandidates = null;
    this.inputChannelClosed();
    if (pc) {
      try {
        pc.close();
      } catch {
        /* already closed */
      }
      this.emit('peer-state', 'closed');
    }
  }

  private sendLocalCandidate(c: RTCIceCandidate): void {
    const candidate = candidateFields(c);
    // Candidates belong to this connection's negotiation: never queued for a later one.
    if (this.registered) this.transmit(this.envelope('ice-candidate', { candidate }));
  }

  /** Offers are handled one at a time, in order. */
  private onOffer(msg: OfferMessage): void {
    this.negotiation = this.negotiation.then(() => this.negotiate(msg)).catch(() => {});
  }

  private async negotiate(msg: OfferMessage): Promise<void> {
    if (!this.options.RTCPeerConnection) {
      this.localError('NOT_SUPPORTED', 'Got an offer but have no RTCPeerConnection (pass one as the `RTCPeerConnection` option).');
      return;
    }
    const sdp = msg.data.sdp.sdp;
    const fingerprint = fingerprintOf(sdp);
    const old = this.pc;
    const reusable =
      old !== null &&
      old.signalingState !== 'closed' &&
      old.connectionState !== 'failed' &&
      old.connectionState !== 'closed' &&
      fingerprint !== null &&
      fingerprint === this.remoteFingerprint;
    if (old && !reusable) this.closePeer();
    try {
      await this.answer(reusable ? old! : this.createPeer(), sdp, fingerprint);
    } catch (err) {
      if (reusable) {
        // The renegotiation was refused: start over with a fresh peer connection.
        this.options.logger.warn('streamgate: renegotiation failed, starting a new peer connection', err);
        this.closePeer();
        try {
          await this.answer(this.createPeer(), sdp, fingerprint);
          return;
        } catch (err2) {
          err = err2;
        }
      }
      this.closePeer();
      const e = this.localError('NEGOTIATION_FAILED', `Could not answer the server's offer: ${err instanceof Error ? err.message : String(err)}`, err);
      for (const w of this.offerWaiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(e);
      }
    }
  }

  private async answer(pc: RTCPeerConnection, sdp: string, fingerprint: string | null): Promise<void> {
    this.remoteReady = false;
    this.heldLocalCandidates = [];
    await pc.setRemoteDescription({ type: 'offer', sdp });
    if (this.pc !== pc) return;
    this.remoteFingerprint = fingerprint;
    this.remoteReady = true;
    for (const c of this.pendingRemoteCandidates.splice(0)) await this.addRemoteCandidate(pc, c);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.pc !== pc) return;
    const local = pc.localDescription ?? answer;
    this.transmit(this.envelope('answer', { sdp: { type: 'answer', sdp: local.sdp ?? '' } }));
    const held = this.heldLocalCandidates ?? [];
    this.heldLocalCandidates = null;
    for (const c of held) this.sendLocalCandidate(c);
    const answered = this.offerWaiters.splice(0);
    for (const w of answered) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  private onRemoteCandidate(c: IceCandidate): void {
    const init = candidateFields(c);
    const pc = this.pc;
    // Until the offer is applied, candidates wait (they may even overtake the offer's handling).
    if (!pc || !this.remoteReady) {
      this.pendingRemoteCandidates.push(init);
      return;
    }
    void this.addRemoteCandidate(pc, init);
  }

  private async addRemoteCandidate(pc: RTCPeerConnection, c: RTCIceCandidateInit): Promise<void> {
    try {
      await pc.addIceCandidate(c);
    } catch (err) {
      // A candidate of an older ICE generation, or end-of-candidates some stacks refuse: not fatal.
      this.options.logger.debug('streamgate: remote candidate not added', err);
    }
  }

  // ---------------------------------------------------------------- input

  /** Input goes over the data channel "input" when it is open, else over the WebSocket (queued offline). */
  private sendInput<T extends 'mouse-move' | 'mouse-click' | 'mouse-wheel' | 'key-press'>(type: T, data: ClientMessageData<T>): void {
    const ch = this.inputChannel;
    const m = this.envelope(type, data);
    if (ch && ch.readyState === 'open') {
      try {
        ch.send(JSON.stringify(m));
        this.metrics.sent++;
        return;
      } catch (err) {
        this.options.logger.debug('streamgate: data channel send failed, using the WebSocket', err);
      }
    }
    this.sendOrQueue(m);
  }

  /** Moves the remote pointer to (x, y) in video pixels. */
  mouseMove(x: number, y: number): void {
    this.sendInput('mouse-move', { x, y });
  }

  /** Presses (`down`), releases (`up`) or clicks (`click`, default) a button at (x, y) in video pixels. */
  mouseClick(x: number, y: number, button: MouseButton = 'left', action: 'down' | 'up' | 'click' = 'click', modifiers?: ModifierState): void {
    this.sendInput('mouse-click', { x, y, button, action, ...(modifiers ? { modifiers } : {}) });
  }

  /** Scrolls by wheel notches (positive dy = down, dx = right), optionally at (x, y). */
  mouseWheel(dx: number, dy: number, x?: number, y?: number): void {
    this.sendInput('mouse-wheel', { dx, dy, ...(x !== undefined && y !== undefined ? { x, y } : {}) });
  }

  /** A key event: `action` down/up, or absent for press+release. */
  key(input: KeyInput): void {
    const data: ClientMessageData<'key-press'> = { key: input.key };
    if (input.code) data.code = input.code;
    if (input.keyCode !== undefined) data.key_code = input.keyCode;
    if (input.action) data.action = input.action;
    if (input.modifiers) data.modifiers = input.modifiers;
    if (input.repeat !== undefined) data.repeat = input.repeat;
    this.sendInput('key-press', data);
  }

  /** The seed's name: `mouse-move` or `mouse-click` (a click presses and releases). */
  sendMouseEvent(eventType: 'mouse-move' | 'mouse-click', x: number, y: number, button: MouseButton = 'left', modifiers?: ModifierState): void {
    if (eventType === 'mouse-move') this.mouseMove(x, y);
    else this.mouseClick(x, y, button, 'click', modifiers);
  }

  /** The seed's name. */
  sendKeyEvent(key: string, keyCode?: number, action?: 'down' | 'up', modifiers?: ModifierState): void {
    this.key({ key, ...(keyCode !== undefined ? { keyCode } : {}), ...(action ? { action } : {}), ...(modifiers ? { modifiers } : {}) });
  }

  /**
   * For users who run their own RTCPeerConnection (the seed's names): send an answer or a local
   * candidate. With requestOffer() the client does this itself.
   */
  sendAnswer(answer: { type?: string; sdp?: string }): void {
    this.transmit(this.envelope('answer', { sdp: { type: 'answer', sdp: answer.sdp ?? '' } }));
  }

  sendIceCandidate(candidate: IceCandidate | RTCIceCandidate): void {
    this.transmit(this.envelope('ice-candidate', { candidate: candidateFields(candidate) }));
  }

  /** Extension: ask for input control (answered by a `control` event). */
  requestControl(): void {
    this.send('request-control', {});
  }

  /** Extension: give input control back. */
  releaseControl(): void {
    this.send('release-control', {});
  }

  /** Captures pointer, wheel and keyboard on `video` and sends them as input (browser only). */
  attachInput(video: HTMLVideoElement, options?: InputOptions): InputController {
    return new InputController(video, this, options);
  }
}

/** The four candidate fields, the same on the wire and in RTCIceCandidateInit. */
function candidateFields(c: IceCandidate | RTCIceCandidate): IceCandidate & RTCIceCandidateInit {
  return { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: c.usernameFragment ?? null };
}

function byteLength(text: string): number {
  return typeof TextEncoder === 'function' ? new TextEncoder().encode(text).length : text.length * 3;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
