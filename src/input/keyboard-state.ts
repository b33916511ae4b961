import { FakeEvent, type KeyboardMapping, type XConnection } from '../x11/x11-connection.js';
import { logger } from '../log.js';
import { Keymap, type KeyLocation } from './keymap.js';
import { bindingRow, XK } from './keysyms.js';
import type { LinkedKeyboard } from './xtest-link.js';

const log = logger('input.x11');

/** Where the keyboard's events go: the XTEST link. */
interface KeySink {
  fake(type: number, detail: number): void;
}

/**
 * The server's keyboard as all peers share it: the keymap (with keysyms bound onto spare keycodes),
 * how many peers hold each keycode (one peer's release never lifts what another still holds), and
 * Caps Lock. Every call is synchronous and a no-op while disconnected.
 */
export class KeyboardState implements LinkedKeyboard {
  private conn: XConnection | null = null;
  private keymap: Keymap | null = null;
  private readonly keyDown = new Uint16Array(256);
  private capsLock = false;
  private capsClearOnRelease = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private bindsSinceRefresh = new Set<number>();
  private bindings = 0;

  /**
   * `rebindGuardMs`: a spare keycode is not rebound to another keysym within this many ms of its last
   * use (clients translate queued key events with the mapping current when they read them).
   */
  constructor(
    private readonly sink: KeySink,
    private readonly rebindGuardMs: number,
  ) {}

  /** Keysyms bound to spare keycodes so far. */
  get keysymsBound(): number {
    return this.bindings;
  }

  /** Keycodes available for keysyms missing from the keymap. */
  get spareCount(): number {
    return this.keymap?.spareCount ?? 0;
  }

  attach(conn: XConnection, mapping: KeyboardMapping, pointerMask: number): void {
    this.keymap = new Keymap(mapping, conn.maxKeycode);
    this.capsLock = (pointerMask & 0x2) !== 0;
    this.conn = conn;
  }

  detach(): void {
    this.conn = null;
    this.keymap = null;
    this.keyDown.fill(0);
  }

  /** Refreshes the keymap (soon: changes come in bursts), keeping the bindings made meanwhile. */
  mappingChanged(conn: XConnection): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refreshKeymap(conn);
    }, 50);
  }

  close(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.detach();
  }

  private refreshKeymap(conn: XConnection): void {
    if (conn !== this.conn) return;
    this.bindsSinceRefresh = new Set();
    const since = this.bindsSinceRefresh;
    conn
      .getKeyboardMapping()
      .then((mapping) => {
        const old = this.keymap;
        if (conn !== this.conn || !old) return;
        const fresh = new Keymap(mapping, conn.maxKeycode, old);
        old.carryBindings(fresh, since);
        this.keymap = fresh;
      })
      .catch((err: Error) => log.debug({ err: err.message }, 'keymap refresh failed'));
  }

  /**
   * Where a keysym is typed: its keycode and level, binding a spare keycode when it is missing
   * (`bindIfMissing`); `retryAt` when the only reusable spare keycode was used too recently.
   */
  locate(keysym: number, bindIfMissing: boolean): KeyLocation | { retryAt: number } | null {
    const keymap = this.keymap;
    const conn = this.conn;
    if (!keymap || !conn) return null;
    const now = performance.now();
    const found = keymap.lookup(keysym);
    if (found) {
      keymap.touch(found.keycode, now);
      return found;
    }
    if (!bindIfMissing) return null;
    const row = bindingRow(keysym);
    const result = keymap.bind(row, (k) => this.keyDown[k]! > 0, now, this.rebindGuardMs);
    if (result === null) {
      log.warn({ keysym: keysym.toString(16) }, 'no spare keycode free for this keysym');
      return null;
    }
    if ('retryAt' in result) return result;
    conn.changeKeyboardMapping(result.keycode, row);
    this.bindsSinceRefresh.add(result.keycode);
    this.bindings++;
    return keymap.lookup(keysym) ?? null;
  }

  keycodeOf(keysym: number): number | null {
    return this.keymap?.lookup(keysym)?.keycode ?? null;
  }

  /** A press that always reaches the server (a held key is released first: X swallows a second press). */
  press(keycode: number): void {
    if (this.keyDown[keycode]!++ > 0) this.sink.fake(FakeEvent.KeyRelease, keycode);
    this.sink.fake(FakeEvent.KeyPress, keycode);
    if (this.keymap?.keysymAt(keycode) === XK.Caps_Lock) {
      // XKB LockMods: the press sets Lock if it was off; the release clears it if it was on.
      if (!this.capsLock) this.capsLock = true;
      else this.capsClearOnRelease = true;
    }
  }

  release(keycode: number): void {
    const n = this.keyDown[keycode]!;
    if (n === 0) return;
    this.keyDown[keycode] = n - 1;
    if (n > 1) return;
    this.sink.fake(FakeEvent.KeyRelease, keycode);
    if (this.keymap?.keysymAt(keycode) === XK.Caps_Lock) {
      if (this.capsClearOnRelease) this.capsLock = false;
      this.capsClearOnRelease = false;
      const conn = this.conn;
      conn
        ?.queryPointer()
        .then((p) => {
          if (conn === this.conn) this.capsLock = (p.mask & 0x2) !== 0;
        })
        .catch(() => undefined);
    }
  }

  /**
   * Presses `loc`. A symbol is typed at the level that gives it: Shift is pressed around it when
   * needed and not held, or lifted around it when held and it would change the symbol; Caps Lock
   * turns letters around.
   */
  type(loc: KeyLocation, symbol: boolean): void {
    const keymap = this.keymap;
    if (!keymap) return;
    const kc = loc.keycode;
    if (!symbol) return this.press(kc);
    let needShift = loc.level === 1;
    if (this.capsLock && keymap.capsMatters(kc)) needShift = !needShift;
    const shiftL = keymap.lookup(XK.Shift_L)?.keycode;
    const shiftR = keymap.lookup(XK.Shift_R)?.keycode;
    const heldShift = [shiftL, shiftR].filter((k): k is number => k !== undefined && this.keyDown[k]! > 0);
    if (needShift && heldShift.length === 0 && shiftL !== undefined) {
      this.sink.fake(FakeEvent.KeyPress, shiftL);
      this.press(kc);
      this.sink.fake(FakeEvent.KeyRelease, shiftL);
    } else if (!needShift && heldShift.length > 0 && keymap.shiftMatters(kc)) {
      for (const s of heldShift) this.sink.fake(FakeEvent.KeyRelease, s);
      this.press(kc);
      for (const s of heldShift) this.sink.fake(FakeEvent.KeyPress, s);
    } else this.press(kc);
  }
}
