import { clampInt, FakeEvent } from '../x11/x11-connection.js';
import type { MouseButton } from '../protocol/index.js';
import type { ScreenSize } from './types.js';

/** Browser button names → X buttons (the DOM's 0/1/2/3/4 → 1/2/3/8/9; 4–7 are the wheel's). */
export const X_BUTTON: Readonly<Record<MouseButton, number>> = { left: 1, middle: 2, right: 3, back: 8, forward: 9 };

/** Where the pointer's events go: the XTEST link. */
interface PointerSink {
  readonly screen: ScreenSize | null;
  fake(type: number, detail: number): void;
  motion(x: number, y: number, coalesce: boolean): void;
}

/**
 * The server's pointer as all peers share it: buttons are counted across peers, so one peer's release
 * never lifts what another still holds. Every call is synchronous and a no-op while disconnected.
 */
export class PointerState {
  private readonly buttonDown = new Uint16Array(16);

  constructor(private readonly sink: PointerSink) {}

  /** A point in screen pixels, clamped onto the screen; null for garbage. */
  point(x: number, y: number): [number, number] | null {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
    const screen = this.sink.screen;
    if (!screen || screen.width <= 0 || screen.height <= 0) return null;
    return [clampInt(x, 0, screen.width - 1), clampInt(y, 0, screen.height - 1)];
  }

  /** `coalesce`: a plain move may be replaced by a newer one while the server lags; a click's never is. */
  move(x: number, y: number, coalesce: boolean): void {
    this.sink.motion(x, y, coalesce);
  }

  press(button: number): void {
    if (this.buttonDown[button]!++ === 0) this.sink.fake(FakeEvent.ButtonPress, button);
  }

  release(button: number): void {
    const n = this.buttonDown[button]!;
    if (n === 0) return;
    this.buttonDown[button] = n - 1;
    if (n === 1) this.sink.fake(FakeEvent.ButtonRelease, button);
  }

  /** `notches` clicks of a wheel button (4–7): each a press and a release. */
  wheel(button: number, notches: number): void {
    for (let i = 0; i < notches; i++) {
      this.sink.fake(FakeEvent.ButtonPress, button);
      this.sink.fake(FakeEvent.ButtonRelease, button);
    }
  }

  /** The connection is gone: the server holds no button for us any more. */
  forgetAll(): void {
    this.buttonDown.fill(0);
  }
}
