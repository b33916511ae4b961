import type { ClientMessageType, ErrorCode } from '../protocol/index.js';
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
 * waiting for their offer to be answered.
 */
export class StreamRequest {
  private wanted: { constraints: { video: boolean; audio: boolean }; codecPreferences: string[] } | null = null;
  /** `id` is 'pending' until the request-offer is sent. */
  private readonly waiters = new PendingRequests<void, { id: string }>();

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
    const id = this.signaling.registered ? this.send() : 'pending';
    return this.waiters.wait({ id }, { ms: options.requestTimeoutMs, what: 'offer' });
  }

  /** The stream is no longer wanted (stopStream(), or the connection ended for good). */
  stop(): void {
    this.wanted = null;
  }

  /** Asks the server again if the stream is wanted and the channel registered; true if asked. */
  renew(): boolean {
    if (!this.wanted || !this.signaling.registered) return false;
    this.send();
    return true;
  }

  answered(): void {
    this.waiters.resolveAll(undefined);
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
    const m = this.signaling.envelope('request-offer', { constraints: s.constraints, codec_preferences: s.codecPreferences });
    for (const w of this.waiters.keys()) if (w.id === 'pending') w.id = m.message_id;
    this.signaling.transmit(m);
    return m.message_id;
  }
}
