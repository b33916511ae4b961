import type { ClientMessageType, ErrorCode } from '../protocol/index.js';
import { decodableVideoCodecs, describeSection, orderByDecodable, type RejectedSection } from './codec-support.js';
import { stripUndefined } from './config.js';
import type { ClientContext } from './context.js';
import type { OutgoingMessage } from './envelope.js';
import type { StreamgateError } from './errors.js';
import type { OfferOptions } from './events.js';
import { PendingRequests } from './pending.js';

/** The part of the signaling channel a stream request goes out through. */
export interface OfferSignaling {
  readonly registered: boolean;
  envelope(type: ClientMessageType, data: Record<string, unknown>): OutgoingMessage;
  transmit(message: OutgoingMessage): boolean;
}

/** Server errors that answer a request-offer even when they do not name it in reply_to. */
const OFFER_FAILURES: readonly ErrorCode[] = ['UNSUPPORTED_CODEC', 'MEDIA_UNAVAILABLE'];

/**
 * The stream this client asked for with requestOffer(): asked for again after every welcome and once
 * after the peer connection fails (an ICE restart), until stopStream(); and the requestOffer() calls
 * waiting for their offer to be answered. Its codec preferences go out ordered by what the browser
 * can decode, and an offer the browser refuses is asked for once more without the refused codecs.
 */
export class StreamRequest {
  private wanted: { constraints: { video: boolean; audio: boolean }; codecPreferences: string[] } | null = null;
  /** `id` is 'pending' until the request-offer is sent. */
  private readonly waiters = new PendingRequests<void, { id: string }>();
  /** Whether the current request was already asked again after a refused offer (once per request and per answered offer). */
  private retriedRefusal = false;
  /** Asked for right behind this connection's hello: the welcome's renew() need not ask again. */
  private askedWithHello = false;

  constructor(
    private readonly context: ClientContext,
    private readonly signaling: OfferSignaling,
  ) {}

  /** Remembers what is asked for and asks now when registered (else after the welcome); resolves once the offer is answered. */
  start(constraints: OfferOptions['constraints'], codecPreferences: string[] | undefined): Promise<void> {
    const { options } = this.context;
    this.wanted = {
      constraints: { ...options.constraints, ...stripUndefined(constraints ?? {}) },
      codecPreferences: codecPreferences ?? this.wanted?.codecPreferences ?? options.codecPreferences,
    };
    this.retriedRefusal = false;
    // Asked again after the welcome, with these constraints, even if the hello already carried a request.
    if (!this.signaling.registered) this.askedWithHello = false;
    const id = this.signaling.registered ? this.send() : 'pending';
    return this.waiters.wait({ id }, { ms: options.requestTimeoutMs, what: 'offer' });
  }

  /** The stream is no longer wanted (stopStream(), or the connection ended for good). */
  stop(): void {
    this.wanted = null;
  }

  /**
   * A new session's hello just left: when the stream is wanted, asks now rather than after the welcome, one round
   * trip sooner (the server handles a connection's messages in order, so the session exists by then). A resumed
   * session waits for its welcome, which says whether the old peer connection lives on. `requestSent`: a boot
   * script asked already (early-session.ts).
   */
  askWithHello(fresh: boolean, requestSent?: OutgoingMessage): void {
    this.askedWithHello = fresh && this.wanted !== null;
    if (!this.askedWithHello) return;
    if (requestSent) this.sent(requestSent.message_id);
    else this.send();
  }

  /** Asks the server again if the stream is wanted and the channel registered; true if asked. */
  renew(): boolean {
    if (this.askedWithHello) {
      // The welcome of the hello that carried the request: it is on its way already.
      this.askedWithHello = false;
      return true;
    }
    if (!this.wanted || !this.signaling.registered) return false;
    this.send();
    return true;
  }

  answered(): void {
    this.retriedRefusal = false;
    this.waiters.resolveAll(undefined);
  }

  /**
   * The browser refused sections of the server's offer: an UNSUPPORTED_CODEC error naming them, and
   * when video was refused, one more request with the codecs the browser can decode that were not
   * refused (the app's order first); without any, the waiting requestOffer() calls fail.
   */
  refused(sections: RejectedSection[]): void {
    const decodable = decodableVideoCodecs();
    const refusedCodecs = new Set(sections.flatMap((s) => (s.kind === 'video' ? s.offeredCodecs : [])));
    const wanted = this.wanted?.codecPreferences ?? [];
    const candidates = decodable ? [...orderByDecodable(wanted, decodable).filter((c) => decodable.has(c.toUpperCase())), ...decodable] : wanted;
    const remaining = [...new Set(candidates.map((c) => c.toUpperCase()))].filter((c) => !refusedCodecs.has(c));
    const retry = this.wanted !== null && refusedCodecs.size > 0 && remaining.length > 0 && !this.retriedRefusal;
    const what = sections.map((s) => `${s.kind} (${s.offeredCodecs.join(', ') || 'no codec'})`).join(' and ');
    const message = `This browser cannot play the offered ${what}${retry ? `; asking the server for ${remaining.join(', ')} instead.` : '.'}`;
    const details = `refused ${sections.map(describeSection).join('; ')}; this browser decodes ${decodable ? [...decodable].join(', ') || 'no video codec' : 'unknown codecs'}`;
    const error = this.context.localError('UNSUPPORTED_CODEC', message, undefined, details);
    if (!retry) {
      this.fail(error);
      return;
    }
    this.retriedRefusal = true;
    this.wanted!.codecPreferences = remaining;
    if (this.signaling.registered) this.send();
  }

  /** Every waiting requestOffer() fails: the offer could not be answered, or the client disconnected. */
  fail(error: StreamgateError): void {
    this.waiters.rejectAll(error);
  }

  /** A server error fails the requestOffer() it answers (by reply_to, or by its code when it names none). */
  serverError(replyTo: string | undefined, code: ErrorCode, error: StreamgateError): void {
    const offerFailure = OFFER_FAILURES.includes(code);
    this.waiters.reject((w) => w.id === replyTo || (offerFailure && !replyTo), error);
  }

  private send(): string {
    const s = this.wanted!;
    const codecPreferences = orderByDecodable(s.codecPreferences, decodableVideoCodecs());
    const m = this.signaling.envelope('request-offer', { constraints: s.constraints, codec_preferences: codecPreferences });
    this.sent(m.message_id);
    this.signaling.transmit(m);
    return m.message_id;
  }

  /** The waiting requestOffer() calls are answered by the request `id`'s offer. */
  private sent(id: string): void {
    for (const w of this.waiters.keys()) if (w.id === 'pending') w.id = id;
  }
}
