/**
 * An independent X client that watches what injection did: a full-screen window with the input
 * focus that records key, button and motion events, plus QueryPointer / QueryKeymap for state.
 * Keysyms are looked up as Xlib's core XLookupKeysym rules do (Shift picks column 1, Lock turns
 * letters around, a missing column 1 falls back to column 0), from the server's current mapping.
 */
import { EventMask, XConnection, XEvent, type KeyboardMapping, type XRawEvent } from '../../src/x11/x11-connection.js';
import { isCasedKeysym } from '../../src/input/keysyms.js';

export interface SeenEvent {
  type: 'key-down' | 'key-up' | 'button-down' | 'button-up' | 'motion';
  detail: number;
  x: number;
  y: number;
  state: number;
  at: number;
}

export class Observer {
  readonly events: SeenEvent[] = [];
  private waiters: { pred: (e: SeenEvent) => boolean; resolve: (e: SeenEvent) => void }[] = [];
  window = 0;

  private constructor(readonly conn: XConnection) {}

  static async open(display: string): Promise<Observer> {
    const conn = await XConnection.connect(display);
    const o = new Observer(conn);
    const geo = await conn.getGeometry();
    o.window = conn.createWindow(
      0,
      0,
      geo.width,
      geo.height,
      EventMask.KeyPress | EventMask.KeyRelease | EventMask.ButtonPress | EventMask.ButtonRelease | EventMask.PointerMotion,
    );
    conn.on('event', (ev) => o.onEvent(ev));
    await conn.sync();
    conn.setInputFocus(o.window);
    await conn.sync();
    return o;
  }

  private onEvent(ev: XRawEvent): void {
    const kind =
      ev.type === XEvent.KeyPress
        ? 'key-down'
        : ev.type === XEvent.KeyRelease
          ? 'key-up'
          : ev.type === XEvent.ButtonPress
            ? 'button-down'
            : ev.type === XEvent.ButtonRelease
              ? 'button-up'
              : ev.type === XEvent.MotionNotify
                ? 'motion'
                : null;
    if (!kind) return;
    const e: SeenEvent = { type: kind, detail: ev.keycode ?? 0, x: ev.rootx ?? 0, y: ev.rooty ?? 0, state: ev.buttons ?? 0, at: performance.now() };
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  /** Resolves with the first event from now on that matches. */
  next(pred: (e: SeenEvent) => boolean, timeoutMs = 2000): Promise<SeenEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('observer: no matching event')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  clear(): void {
    this.events.length = 0;
  }

  /** Waits until every event sent to the server so far has reached this client. */
  async settle(): Promise<void> {
    await this.conn.sync();
    await new Promise((r) => setImmediate(r));
  }

  async pointer(): Promise<{ x: number; y: number; buttons: number }> {
    const p = await this.conn.queryPointer();
    return { x: p.rootX, y: p.rootY, buttons: p.mask & 0x1f00 };
  }

  /** Keycodes currently held down. */
  async keysDown(): Promise<number[]> {
    const bits = await this.conn.queryKeymap();
    const down: number[] = [];
    bits.forEach((byte, i) => {
      for (let b = 0; b < 8; b++) if (byte & (1 << b)) down.push(i * 8 + b);
    });
    return down;
  }

  async mapping(): Promise<KeyboardMapping> {
    return this.conn.getKeyboardMapping();
  }

  /** The keysyms of the key presses seen, as a client would look them up. */
  async typedKeysyms(): Promise<number[]> {
    const m = await this.mapping();
    return this.events.filter((e) => e.type === 'key-down').map((e) => lookupKeysym(m, e.detail, e.state));
  }

  async close(): Promise<void> {
    this.conn.destroy();
  }
}

export function lookupKeysym(m: KeyboardMapping, keycode: number, state: number): number {
  const base = (keycode - m.minKeycode) * m.keysymsPerKeycode;
  const ks0 = m.keysyms[base] ?? 0;
  let ks1 = m.keysyms[base + 1] ?? 0;
  if (ks1 === 0) ks1 = ks0;
  let shifted = (state & 0x1) !== 0;
  if (state & 0x2 && isCasedKeysym(ks0) && ks0 !== ks1) shifted = !shifted;
  return shifted ? ks1 : ks0;
}
