/**
 * A session a page began before the SDK was loaded. A page's boot script (the viewer's web/boot.ts, inlined
 * in index.html) opens the signaling socket, sends `hello` and `request-offer`, and answers the first offer
 * with its own RTCPeerConnection, so that the first picture waits for neither the SDK's bundle nor the page's
 * other work (bench/notes/pageopen.md). The client takes the session over where the boot stopped (the
 * `early` option): the socket, what was sent on it, every message received so far, and the peer connection
 * that answered. The boot hands over only at a settled point (no step of its own in flight) and does nothing
 * once `taken` is set.
 */
import type { OutgoingMessage } from './envelope.js';

/** The offer the boot answered, and what its peer connection had produced by the hand-over. */
export interface EarlyAnswer {
  /** The answered offer's `message_id`: when the client handles that offer, it adopts this instead. */
  offerMessageId: string;
  pc: RTCPeerConnection;
  /** The remote tracks (`track` events) and the stream they came in, if the offer named one. */
  tracks: MediaStreamTrack[];
  stream: MediaStream | null;
  /** Data channels the server opened (`datachannel` events). */
  channels: RTCDataChannel[];
}

export interface EarlySession {
  /** The socket's URL: the client takes the socket only when its own `url` is this one. */
  url: string;
  socket: WebSocket | null;
  opened: boolean;
  /** Every text message received, in order. */
  messages: string[];
  /** Indexes in `messages` the boot handled completely (remote candidates it applied): not handled again. */
  consumed: number[];
  closed: { code: number; reason: string } | null;
  /** The `hello` and `request-offer` as sent, or null when the boot did not send them (the client then does). */
  hello: OutgoingMessage | null;
  requestOffer: OutgoingMessage | null;
  answered: EarlyAnswer | null;
  /** Set by the client as it takes the session over. */
  taken: boolean;
}

/** `early` if the client at `url` may take it over: not taken yet, and opened for the same URL. */
export function takeableEarlySession(early: EarlySession | null, url: string): EarlySession | null {
  return early && !early.taken && early.socket && early.url === url ? early : null;
}
