/**
 * StreamgateClient, the SDK's public API: a facade over one signaling channel (socket, reconnect,
 * session resume, offline queue, pings and heartbeat), one receiving peer (the RTCPeerConnection
 * playing the server's stream, and the input data channel), the stream request (what requestOffer()
 * asked for) and the request/reply pairs waiting for the server's answer; the seed client's method
 * names come from its base class. Runs in browsers and in Node (inject `ws` and, for media, an
 * RTCPeerConnection).
 */
import type { ClientMessageData, ClientMessageType, MouseButton, PeerId, ServerMessage, SessionConfig, StatsSection } from '../protocol/index.js';
import { resolveOptions, type ResolvedOptions, type StreamgateClientOptions } from './config.js';
import { ClientContext } from './context.js';
import { StreamgateError } from './errors.js';
import type { ConnectionState, ErrorMessage, OfferOptions, StateChange, StatsData, StreamgateClientEvents, WelcomeData, WelcomeMessage } from './events.js';
import { InputController, type InputOptions, type InputSink, type KeyInput, type ModifierState } from './input.js';
import type { MediaStatsSummary } from './media-stats.js';
import { MetricsRecorder, type ClientMetrics } from './metrics.js';
import { readServerMessage } from './server-message.js';
import { PendingRequests } from './pending.js';
import { ReceivingPeer } from './receiving-peer.js';
import { SeedCompatibleClient } from './seed-aliases.js';
import { SignalingChannel } from './signaling-channel.js';
import { StreamRequest } from './stream-request.js';

type InputType = 'mouse-move' | 'mouse-click' | 'mouse-wheel' | 'key-press';

export class StreamgateClient extends SeedCompatibleClient implements InputSink {
  readonly options: ResolvedOptions;
  private readonly metrics = new MetricsRecorder(100);
  private readonly context: ClientContext;
  private readonly signaling: SignalingChannel;
  private readonly peer: ReceivingPeer;
  /** get-stats and other request/reply pairs, matched by reply_to (else by type). */
  private readonly requests = new PendingRequests<unknown, { id: string; type: ClientMessageType }>();
  private readonly streamRequest: StreamRequest;

  constructor(options: StreamgateClientOptions) {
    super();
    this.options = resolveOptions(options);
    this.context = new ClientContext(this.options, this.metrics, <K extends keyof StreamgateClientEvents>(event: K, arg: StreamgateClientEvents[K]) =>
      this.emit(event, arg),
    );
    this.signaling = new SignalingChannel(this.context, {
      message: (msg) => this.dispatch(msg),
      disconnected: (error) => this.failWaiters(error),
      ended: () => {
        this.streamRequest.stop();
        this.peer.close();
      },
      dropped: (m) => this.rejectRequest(m.message_id, new StreamgateError('DISCONNECTED', `The ${m.type} was dropped from the full offline queue.`, 'client')),
      helloSent: (fresh, requestSent) => this.streamRequest.askWithHello(fresh, requestSent),
    });
    this.streamRequest = new StreamRequest(this.context, this.signaling);
    this.peer = new ReceivingPeer(this.context, this.signaling, {
      restartIce: () => this.streamRequest.renew(),
      connectionChanged: () => this.updateLive(),
      answered: () => this.streamRequest.answered(),
      failed: (error) => this.streamRequest.fail(error),
      refused: (sections) => this.streamRequest.refused(sections),
      channelText: (text) => this.onChannelText(text),
    });
  }

  // ---------------------------------------------------------------- lifecycle

  get state(): ConnectionState {
    return this.signaling.state;
  }

  get peerId(): PeerId {
    return this.options.peerId;
  }

  /** The last welcome's session (id, resume token, config), or null before the first. */
  get session(): WelcomeData | null {
    return this.signaling.welcome;
  }

  get sessionConfig(): SessionConfig | null {
    return this.signaling.welcome?.session_config ?? null;
  }

  /** The remote stream (every track received), or null. */
  get stream(): MediaStream | null {
    return this.peer.stream;
  }

  get peerConnection(): RTCPeerConnection | null {
    return this.peer.connection;
  }

  /** True when input currently travels over the WebRTC data channel. */
  get usingDataChannel(): boolean {
    return this.peer.inputChannelOpen;
  }

  /**
   * Opens the connection and resolves with the welcome's data. While reconnect is on, failed
   * attempts are retried with backoff and the promise waits; it rejects when the client gives up
   * (a close that must not be retried, `maxRetries` exhausted, or disconnect()).
   */
  connect(): Promise<WelcomeData> {
    return this.signaling.connect();
  }

  /** Closes everything for good: no reconnect, the peer connection closed, the session forgotten. */
  async disconnect(): Promise<void> {
    await this.signaling.stop();
  }

  /** Resolves when the state becomes `state` (immediately if it is). */
  waitFor(state: ConnectionState): Promise<StateChange> {
    if (this.state === state) return Promise.resolve({ state, previous: state });
    return this.next('state', (s) => s.state === state);
  }

  /** open ↔ live follows the peer connection while registered. */
  private updateLive(): void {
    this.signaling.setPeerConnected(this.peer.connected);
  }

  // ---------------------------------------------------------------- requests

  /**
   * Sends any protocol message (queued while offline). Most users want the typed helpers; this is
   * for extensions such as `request-control`.
   */
  send<T extends ClientMessageType>(type: T, data: ClientMessageData<T> | Record<string, unknown> = {}): string {
    const m = this.signaling.envelope(type, data);
    this.signaling.sendOrQueue(m);
    return m.message_id;
  }

  protected sendNow<T extends 'answer' | 'ice-candidate'>(type: T, data: ClientMessageData<T>): void {
    this.signaling.sendNow(type, data);
  }

  /** Sends a message and resolves with the server's reply (see settleRequest for the matching). */
  private request<T>(type: ClientMessageType, data: Record<string, unknown>): Promise<T> {
    const m = this.signaling.envelope(type, data);
    const answered = this.requests.wait({ id: m.message_id, type }, { ms: this.options.requestTimeoutMs, what: `answer to ${type}` });
    if (!this.signaling.sendOrQueue(m)) this.rejectRequest(m.message_id, new StreamgateError('DISCONNECTED', `Not connected: call connect() before ${type}.`, 'client'));
    return answered as Promise<T>;
  }

  /** A reply settles the request it names in reply_to when that has the reply's type, else the newest request of that type. */
  private settleRequest(type: ClientMessageType, replyTo: string | undefined, value: unknown): void {
    const waiting = this.requests.keys();
    const request = waiting.find((r) => r.id === replyTo && r.type === type) ?? waiting.filter((r) => r.type === type).at(-1);
    if (request) this.requests.resolve((r) => r === request, value);
  }

  private rejectRequest(id: string, error: StreamgateError): void {
    this.requests.reject((r) => r.id === id, error);
  }

  /** The socket is gone: requests still in the offline queue stay pending (sent after reconnect, until their timeout). */
  private failWaiters(error: StreamgateError): void {
    const stopped = this.signaling.stopped;
    const queued = this.signaling.queuedIds();
    this.requests.reject((r) => stopped || !queued.has(r.id), error);
    if (stopped) this.streamRequest.fail(error);
    this.peer.closeInputChannel();
  }

  // ---------------------------------------------------------------- receiving

  private dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome':
        this.onWelcome(msg);
        break;
      case 'offer':
        this.emit('offer', msg);
        this.peer.handleOffer(msg.data.sdp.sdp, msg.message_id);
        break;
      case 'ice-candidate':
        this.emit('ice-candidate', msg);
        this.peer.handleRemoteCandidate(msg.data.candidate);
        break;
      case 'pong':
        this.signaling.liveness.handlePong(msg);
        this.emit('pong', msg);
        break;
      case 'stats':
        this.emit('stats', msg);
        this.settleRequest('get-stats', msg.reply_to, msg.data);
        break;
      case 'control':
        this.emit('control', msg);
        break;
      case 'clipboard':
      case 'cursor':
      case 'pointer':
      case 'participants':
      case 'control-requested':
      case 'share-link':
      case 'screen':
        // Extension notices: each has the event of its own name.
        this.emit(msg.type, msg as never);
        break;
      case 'error':
        this.onServerError(msg);
        break;
      default:
        this.options.logger.debug(`streamgate: ignoring unknown server message type "${(msg as { type: string }).type}"`);
    }
    this.emit('message', msg);
  }

  /** The server sends only `pointer` on the data channel; anything else there is not the protocol's and is ignored. */
  private onChannelText(text: string): void {
    const msg = readServerMessage(text);
    if (typeof msg === 'string' || msg.type !== 'pointer') {
      this.options.logger.debug(`streamgate: ignoring a data channel message: ${typeof msg === 'string' ? msg : msg.type}`);
      return;
    }
    this.metrics.received++;
    this.dispatch(msg);
  }

  private onWelcome(msg: WelcomeMessage): void {
    const sameSession = this.signaling.acceptWelcome(msg.data);
    // A new server session (restart, or resume refused) cannot continue the old peer connection.
    if (!sameSession && this.peer.connection) this.peer.close();
    this.emit('welcome', msg);
    this.updateLive();
    this.signaling.flush();
    // The stream was asked for (before this welcome, or on the connection that was lost): ask again.
    this.streamRequest.renew();
    this.signaling.settleConnect(msg.data);
  }

  private onServerError(msg: ErrorMessage): void {
    const { code, message, details } = msg.error;
    const error = new StreamgateError(code, message, 'server', details, msg.reply_to);
    this.metrics.errors++;
    if (msg.reply_to) {
      this.rejectRequest(msg.reply_to, error);
      this.signaling.liveness.rejectPing(msg.reply_to, error);
    }
    this.streamRequest.serverError(msg.reply_to, code, error);
    this.emit('error', error);
  }

  // ---------------------------------------------------------------- ping, stats, metrics

  /** Sends a ping and resolves with the round trip in ms (measured with a monotonic clock). */
  ping(clientState?: string): Promise<number> {
    return this.signaling.liveness.ping(clientState);
  }

  /** Asks the server for stats (default all sections); queued while offline. */
  requestStats(sections: StatsSection[] = ['webrtc', 'system', 'network']): Promise<StatsData> {
    return this.request<StatsData>('get-stats', { stats_type: sections });
  }

  /** Counters across reconnects (sent, received, errors, latency average and last-100 window, uptime, queue). */
  getMetrics(): ClientMetrics {
    return this.metrics.snapshot(Date.now(), this.signaling.queueSize, this.signaling.queueDropped);
  }

  /** The browser's own view of the stream (fps, resolution, bitrate, loss, codec, RTT), or null without video. */
  getMediaStats(): Promise<MediaStatsSummary | null> {
    return this.peer.mediaStats();
  }

  // ---------------------------------------------------------------- media

  /**
   * Asks the server for its stream and negotiates it (the answer and local candidates are sent for
   * you). Resolves once the answer is sent; rejects with the server's error (e.g. UNSUPPORTED_CODEC),
   * or with a local UNSUPPORTED_CODEC when the browser refused the offered codec even after asking
   * once more for the ones it decodes. Remembered: after a reconnect the stream is requested again by itself.
   */
  requestOffer(constraints?: OfferOptions['constraints'], codecPreferences?: string[]): Promise<void> {
    if (!this.options.RTCPeerConnection) {
      return Promise.reject(this.context.localError('NOT_SUPPORTED', 'No RTCPeerConnection here: pass one as the `RTCPeerConnection` option to receive media.'));
    }
    const answered = this.streamRequest.start(constraints, codecPreferences);
    if (this.state === 'idle' || this.state === 'closed') this.connect().catch(() => {});
    return answered;
  }

  /** Stops asking for the stream and closes the local peer connection. */
  stopStream(): void {
    this.streamRequest.stop();
    this.peer.close();
    this.updateLive();
  }

  /** Plays the stream in `video` (now, and after every renegotiation); returns a function that detaches it. */
  attachVideo(video: HTMLVideoElement): () => void {
    return this.peer.attachVideo(video);
  }

  // ---------------------------------------------------------------- input

  /** Input goes over the data channel "input" when it is open, else over the WebSocket (queued offline). */
  private sendInput<T extends InputType>(type: T, data: ClientMessageData<T>): void {
    const m = this.signaling.envelope(type, data);
    if (this.peer.sendInput(m)) {
      this.metrics.sent++;
      return;
    }
    this.signaling.sendOrQueue(m);
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
