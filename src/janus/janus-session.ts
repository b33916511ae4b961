import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { logger, type Logger } from '../log.js';
import { JANUS_SESSION_NOT_FOUND, JanusError, describeRequest } from './janus-error.js';
import { JanusEventSchema, JanusReplySchema, type JanusEvent } from './janus-replies.js';

export interface JanusSessionOptions {
  /** The HTTP transport's base URL, e.g. `http://127.0.0.1:8088/janus`. */
  url: string;
  /** Janus's `api_secret`, when it has one. */
  apiSecret?: string;
  /** Between keepalives; Janus drops a session after `session_timeout` (60 s by default) without one. */
  keepaliveMs?: number;
  /** How long an asynchronous plugin request waits for its event. */
  requestTimeoutMs?: number;
}

/** Events of one plugin handle, as the long poll delivers them. */
export type HandleEventListener = (event: JanusEvent) => void;

interface SessionEvents {
  /** The session is over: Janus went away, restarted or dropped it. Emitted once; the session is unusable. */
  gone: [JanusError];
}

const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Events one long poll may bring back at once. */
const MAX_EVENTS_PER_POLL = 10;
/** A request of ours (not the long poll, which Janus holds for up to 30 s) that takes longer failed. */
const HTTP_TIMEOUT_MS = 10_000;

interface PendingEvent {
  resolve: (event: Extract<JanusEvent, { janus: 'event' }>) => void;
  reject: (err: JanusError) => void;
  timer: NodeJS.Timeout;
}

/**
 * One Janus API session over the HTTP transport: requests, a keepalive, and a long poll that delivers the
 * events of the session's plugin handles. When Janus stops answering or no longer knows the session, the
 * session emits `gone` once and every waiting request fails; the owner makes a new one.
 */
export class JanusSession extends EventEmitter<SessionEvents> {
  private readonly handles = new Map<number, HandleEventListener>();
  private readonly pending = new Map<string, PendingEvent>();
  private readonly polling = new AbortController();
  private readonly keepalive: NodeJS.Timeout;
  private ended: JanusError | undefined;
  private readonly log: Logger;

  private constructor(
    private readonly options: JanusSessionOptions,
    readonly id: number,
  ) {
    super();
    this.log = logger('janus.session', { session: id });
    this.keepalive = setInterval(() => {
      this.send(`${this.options.url}/${this.id}`, { janus: 'keepalive' }, 'keepalive').catch((err: unknown) =>
        this.end(asJanusError(err, 'keepalive')),
      );
    }, options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS);
    this.keepalive.unref();
    void this.poll();
  }

  /** Creates a session on the Janus at `options.url`. */
  static async connect(options: JanusSessionOptions): Promise<JanusSession> {
    const reply = await post(options, options.url, { janus: 'create' }, 'create session');
    if (reply.janus !== 'success' || !reply.data) throw new JanusError('transport', 0, 'no session id in the reply', 'create session');
    return new JanusSession(options, reply.data.id);
  }

  get isGone(): boolean {
    return this.ended !== undefined;
  }

  /** Attaches a plugin (e.g. `janus.plugin.streaming`); its events go to `listener`. Resolves to the handle id. */
  async attach(plugin: string, listener: HandleEventListener): Promise<number> {
    const what = `attach ${plugin}`;
    const reply = await this.send(`${this.options.url}/${this.id}`, { janus: 'attach', plugin }, what);
    if (reply.janus !== 'success' || !reply.data) throw new JanusError('transport', 0, 'no handle id in the reply', what);
    this.handles.set(reply.data.id, listener);
    return reply.data.id;
  }

  /**
   * Sends a plugin message. A synchronous request resolves to the plugin's reply data; an asynchronous one
   * (Janus answers `ack`) to the data and JSEP of the event that carries its outcome.
   */
  async message(
    handle: number,
    what: string,
    body: Record<string, unknown>,
    jsep?: { type: 'answer'; sdp: string },
  ): Promise<{ data: Record<string, unknown>; jsep?: { type: string; sdp: string } }> {
    const request = describeRequest(what, body);
    const transaction = randomUUID();
    // Registered before sending: the event may come back on the long poll before the POST's own reply.
    const outcome = this.awaitEvent(transaction, request);
    outcome.catch(() => undefined);
    const message = { janus: 'message', body, ...(jsep ? { jsep } : {}) };
    let reply;
    try {
      reply = await this.send(`${this.options.url}/${this.id}/${handle}`, message, request, transaction);
    } catch (err) {
      this.cancelEvent(transaction);
      throw err;
    }
    if (reply.janus === 'success') {
      this.cancelEvent(transaction);
      if (!reply.plugindata) throw new JanusError('transport', 0, 'no plugin data in the reply', request);
      return { data: pluginData(reply.plugindata.data, request) };
    }
    const event = await outcome;
    return { data: pluginData(event.plugindata.data, request), ...(event.jsep ? { jsep: event.jsep } : {}) };
  }

  /** Passes a viewer's ICE candidate on (`null` = end of candidates). */
  async trickle(handle: number, candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null): Promise<void> {
    const body = candidate ? { candidate } : { candidate: { completed: true } };
    await this.send(`${this.options.url}/${this.id}/${handle}`, { janus: 'trickle', ...body }, 'trickle');
  }

  /** Tears down the handle's PeerConnection, keeping the handle. */
  async hangup(handle: number): Promise<void> {
    await this.send(`${this.options.url}/${this.id}/${handle}`, { janus: 'hangup' }, 'hangup');
  }

  async detach(handle: number): Promise<void> {
    this.handles.delete(handle);
    await this.send(`${this.options.url}/${this.id}/${handle}`, { janus: 'detach' }, 'detach');
  }

  /** Destroys the session in Janus (its handles and their PeerConnections go with it) and stops polling. */
  async destroy(): Promise<void> {
    if (this.ended) return;
    const ending = new JanusError('transport', 0, 'the session was destroyed', 'destroy session');
    this.stop(ending);
    await post(this.options, `${this.options.url}/${this.id}`, { janus: 'destroy' }, 'destroy session').catch((err: unknown) =>
      this.log.debug({ err }, 'destroying the session failed (Janus is gone?)'),
    );
  }

  private async send(url: string, body: Record<string, unknown>, what: string, transaction?: string) {
    if (this.ended) throw new JanusError('transport', 0, `the session is gone (${this.ended.message})`, what);
    try {
      return await post(this.options, url, body, what, transaction);
    } catch (err) {
      const error = asJanusError(err, what);
      if (error.sessionGone) this.end(error);
      throw error;
    }
  }

  private awaitEvent(transaction: string, request: string): Promise<Extract<JanusEvent, { janus: 'event' }>> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new JanusError('transport', 0, `no event answered it within ${timeoutMs} ms`, request));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, timer });
    });
  }

  private cancelEvent(transaction: string): void {
    const waiting = this.pending.get(transaction);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.pending.delete(transaction);
  }

  private async poll(): Promise<void> {
    const secret = this.options.apiSecret ? `&apisecret=${encodeURIComponent(this.options.apiSecret)}` : '';
    while (!this.ended) {
      let events: unknown;
      try {
        const url = `${this.options.url}/${this.id}?maxev=${MAX_EVENTS_PER_POLL}&rid=${Date.now()}${secret}`;
        const response = await fetch(url, { signal: this.polling.signal });
        events = await response.json();
      } catch (err) {
        if (!this.ended) this.end(asJanusError(err, 'long poll'));
        return;
      }
      for (const raw of Array.isArray(events) ? events : [events]) this.dispatch(raw);
    }
  }

  private dispatch(raw: unknown): void {
    const parsed = JanusEventSchema.safeParse(raw);
    if (!parsed.success) {
      this.log.debug({ event: raw }, 'ignoring an event this client does not know');
      return;
    }
    const event = parsed.data;
    switch (event.janus) {
      case 'keepalive':
        return;
      case 'error':
        this.end(new JanusError('core', event.error.code, event.error.reason, 'long poll'));
        return;
      case 'timeout':
        // From here on Janus answers every request of the session with this code.
        this.end(new JanusError('core', JANUS_SESSION_NOT_FOUND, 'Janus timed the session out', 'long poll'));
        return;
      case 'event': {
        const waiting = event.transaction === undefined ? undefined : this.pending.get(event.transaction);
        if (waiting && event.transaction !== undefined) {
          this.cancelEvent(event.transaction);
          waiting.resolve(event);
          return;
        }
        break;
      }
    }
    if (event.janus === 'detached') this.handles.delete(event.sender);
    const listener = this.handles.get(event.sender);
    if (!listener) return;
    try {
      listener(event);
    } catch (err) {
      this.log.error({ err, event: event.janus }, 'a handle listener failed');
    }
  }

  private end(error: JanusError): void {
    if (this.ended) return;
    this.stop(error);
    this.log.warn({ reason: error.message }, 'Janus session gone');
    this.emit('gone', error);
  }

  private stop(error: JanusError): void {
    this.ended = error;
    clearInterval(this.keepalive);
    this.polling.abort();
    for (const [transaction, waiting] of this.pending) {
      this.cancelEvent(transaction);
      waiting.reject(new JanusError(error.origin, error.code, `the session ended: ${error.reason}`, 'waiting for an event'));
    }
  }
}

/** One request to Janus, its reply validated; a Janus `error` reply is thrown as a JanusError. */
async function post(options: JanusSessionOptions, url: string, body: Record<string, unknown>, what: string, transaction: string = randomUUID()) {
  const payload = { ...body, transaction, ...(options.apiSecret ? { apisecret: options.apiSecret } : {}) };
  let raw: unknown;
  try {
    const response = await fetch(url, { method: 'POST', body: JSON.stringify(payload), signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    raw = await response.json();
  } catch (err) {
    throw new JanusError('transport', 0, `no answer from ${url}: ${causeText(err)}`, what);
  }
  const parsed = JanusReplySchema.safeParse(raw);
  if (!parsed.success) throw new JanusError('transport', 0, `unexpected reply ${JSON.stringify(raw).slice(0, 200)}`, what);
  const reply = parsed.data;
  if (reply.janus === 'error') throw new JanusError('core', reply.error.code, reply.error.reason, what);
  return reply;
}

/** A plugin's reply data; a plugin error inside it (`error_code`, `error`) is thrown as a JanusError. */
function pluginData(data: Record<string, unknown>, request: string): Record<string, unknown> {
  if (typeof data.error_code === 'number') {
    throw new JanusError('plugin', data.error_code, typeof data.error === 'string' ? data.error : 'no reason given', request);
  }
  return data;
}

function asJanusError(err: unknown, what: string): JanusError {
  return err instanceof JanusError ? err : new JanusError('transport', 0, causeText(err), what);
}

/** fetch() reports "fetch failed" and hides the reason (ECONNREFUSED, …) in `cause`. */
function causeText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
