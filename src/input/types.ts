import type { ClientMessageData } from '../protocol/index.js';

/**
 * The contract between signaling and input injection. Signaling validates messages and decides who
 * may control; input turns validated events into X11 XTEST requests and remembers what each peer holds.
 */

export interface VideoSize {
  width: number;
  height: number;
}

/** One peer's input: everything it presses is tracked so that releaseAll() leaves nothing stuck. */
export interface PeerInput {
  mouseMove(event: ClientMessageData<'mouse-move'>): void;
  mouseClick(event: ClientMessageData<'mouse-click'>): void;
  mouseWheel(event: ClientMessageData<'mouse-wheel'>): void;
  key(event: ClientMessageData<'key-press'>): void;
  /** Releases every key and button this peer holds (disconnect, loss of control, take-over). */
  releaseAll(): void;
}

export interface InputInjector {
  /** `videoSize` maps client coordinates (video pixel space) onto the current screen size. */
  forPeer(peerKey: string, videoSize: () => VideoSize | null): PeerInput;
  close(): Promise<void>;
}
