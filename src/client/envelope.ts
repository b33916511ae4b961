import type { ClientMessageData, ClientMessageType, PeerId } from '../protocol/index.js';

/** A client message as it goes on the wire (docs/protocol.md, "Envelope"). */
export interface OutgoingMessage {
  type: ClientMessageType;
  peer_id: PeerId;
  message_id: string;
  timestamp: number;
  data: Record<string, unknown>;
}

/** Wraps data in the envelope; message ids are unique per client (a random prefix, the time, a counter). */
export class Envelopes {
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private counter = 0;

  constructor(private readonly peerId: PeerId) {}

  wrap<T extends ClientMessageType>(type: T, data: ClientMessageData<T> | Record<string, unknown>): OutgoingMessage {
    return {
      type,
      peer_id: this.peerId,
      message_id: `${this.idPrefix}_${Date.now().toString(36)}_${++this.counter}`,
      timestamp: Date.now(),
      data: data as Record<string, unknown>,
    };
  }
}
