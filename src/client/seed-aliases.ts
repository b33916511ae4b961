import type { ClientMessageData, IceCandidate, MouseButton } from '../protocol/index.js';
import { TypedEmitter } from './emitter.js';
import type { StreamgateClientEvents } from './events.js';
import type { KeyInput, ModifierState } from './input.js';
import { candidateFields } from './receiving-peer.js';

/**
 * The method names of the seed JS client, kept so that code written against it keeps working
 * (docs/protocol.md, "Seed clients"): each is one call into StreamgateClient's own API, declared
 * here as abstract.
 */
export abstract class SeedCompatibleClient extends TypedEmitter<StreamgateClientEvents> {
  abstract mouseMove(x: number, y: number): void;
  abstract mouseClick(x: number, y: number, button?: MouseButton, action?: 'down' | 'up' | 'click', modifiers?: ModifierState): void;
  abstract key(input: KeyInput): void;
  abstract ping(clientState?: string): Promise<number>;
  /** Sends on the current socket now, never queued (an answer or a candidate belongs to this connection). */
  protected abstract sendNow<T extends 'answer' | 'ice-candidate'>(type: T, data: ClientMessageData<T>): void;

  /** The seed's name: `mouse-move` or `mouse-click` (a click presses and releases). */
  sendMouseEvent(eventType: 'mouse-move' | 'mouse-click', x: number, y: number, button: MouseButton = 'left', modifiers?: ModifierState): void {
    if (eventType === 'mouse-move') this.mouseMove(x, y);
    else this.mouseClick(x, y, button, 'click', modifiers);
  }

  /** The seed's name. */
  sendKeyEvent(key: string, keyCode?: number, action?: 'down' | 'up', modifiers?: ModifierState): void {
    this.key({ key, ...(keyCode !== undefined ? { keyCode } : {}), ...(action ? { action } : {}), ...(modifiers ? { modifiers } : {}) });
  }

  /** The seed's name: fire-and-forget ping (the RTT arrives as a `latency` event). */
  sendPing(): void {
    this.ping().catch(() => {});
  }

  /**
   * For users who run their own RTCPeerConnection (the seed's names): send an answer or a local
   * candidate. With requestOffer() the client does this itself.
   */
  sendAnswer(answer: { type?: string; sdp?: string }): void {
    this.sendNow('answer', { sdp: { type: 'answer', sdp: answer.sdp ?? '' } });
  }

  sendIceCandidate(candidate: IceCandidate | RTCIceCandidate): void {
    this.sendNow('ice-candidate', { candidate: candidateFields(candidate) });
  }
}
