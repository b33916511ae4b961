import type { ClientMessageData } from '../protocol/index.js';

/**
 * The contract between signaling and input injection. Signaling validates messages and decides who
 * may control; input turns validated events into X11 XTEST requests and remembers what each peer holds.
 */

export interface ScreenSize {
  width: number;
  height: number;
}

/**
 * One peer's input: everything it presses is tracked so that releaseAll() leaves nothing stuck.
 * Coordinates are screen pixels: an X source is encoded at the screen's own size, so the video's
 * pixels are the screen's.
 */
export interface PeerInput {
  mouseMove(event: ClientMessageData<'mouse-move'>): void;
  mouseClick(event: ClientMessageData<'mouse-click'>): void;
  mouseWheel(event: ClientMessageData<'mouse-wheel'>): void;
  key(event: ClientMessageData<'key-press'>): void;
  /** Releases every key and button this peer holds (disconnect, loss of control, take-over). */
  releaseAll(): void;
}

export interface InputInjector {
  forPeer(peerKey: string): PeerInput;
  close(): Promise<void>;
}
