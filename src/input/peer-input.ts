import type { ClientMessageData } from '../protocol/index.js';
import type { KeyLocation } from './keymap.js';
import { MOD_CLASSES, MOD_DEFAULT_KEYSYM, modClassOf, parseModifiers, resolveKey, type ModClass, type ResolvedKey } from './keysyms.js';
import { X_BUTTON } from './pointer-state.js';
import type { PeerInput } from './types.js';

const WHEEL = { up: 4, down: 5, left: 6, right: 7 } as const;
/** Most wheel notches injected for one event (the schema allows ±100). */
const MAX_NOTCHES = 100;

/** What a peer's input reaches, shared with every other peer. */
export interface SharedInput {
  link: {
    /** Whether input can be injected now. */
    readonly connected: boolean;
    /** Goes up when the connection is lost: what was pressed before is held no more. */
    readonly epoch: number;
  };
  pointer: {
    point(x: number, y: number): [number, number] | null;
    move(x: number, y: number, coalesce: boolean): void;
    press(button: number): void;
    release(button: number): void;
    wheel(button: number, notches: number): void;
  };
  keyboard: {
    locate(keysym: number, bindIfMissing: boolean): KeyLocation | { retryAt: number } | null;
    keycodeOf(keysym: number): number | null;
    press(keycode: number): void;
    release(keycode: number): void;
    type(loc: KeyLocation, symbol: boolean): void;
  };
  /** Input waiting for a spare keycode to be rebound. */
  waiting: {
    readonly active: boolean;
    enqueue(owner: object, run: () => void, move: boolean): void;
    deferUntil(retryAt: number, owner: object, run: () => void): void;
    drop(owner: object): void;
  };
  /** Told when this peer may hold something (a key or a click) and when it holds nothing any more. */
  holders: {
    add(peer: X11PeerInput): void;
    remove(peer: X11PeerInput): void;
  };
}

interface Held {
  keycode: number;
  mod: ModClass | null;
}

/** One peer's input; everything it holds is released by releaseAll(). Coordinates are screen pixels. */
export class X11PeerInput implements PeerInput {
  private readonly keys = new Map<string, Held>();
  private readonly buttons = new Set<number>();
  private wheelX = 0;
  private wheelY = 0;
  private epoch: number;

  constructor(
    readonly peerKey: string,
    private readonly shared: SharedInput,
  ) {
    this.epoch = shared.link.epoch;
  }

  /** Keys and buttons this peer holds (for tests and diagnostics). */
  get holding(): { keys: number; buttons: number } {
    this.catchUp();
    return { keys: this.keys.size, buttons: this.buttons.size };
  }

  mouseMove(event: ClientMessageData<'mouse-move'>): void {
    if (!this.admit(this.mouseMove, event, 'move')) return;
    const pointer = this.shared.pointer;
    const p = pointer.point(event.x, event.y);
    if (p) pointer.move(p[0], p[1], true);
  }

  mouseClick(event: ClientMessageData<'mouse-click'>): void {
    if (!this.admit(this.mouseClick, event, 'press')) return;
    const pointer = this.shared.pointer;
    const p = pointer.point(event.x, event.y);
    if (!p) return;
    const button = X_BUTTON[event.button ?? 'left'];
    if (button === undefined) return;
    this.reconcile(parseModifiers(event.modifiers), null, false);
    pointer.move(p[0], p[1], false);
    switch (event.action ?? 'click') {
      case 'down':
        if (!this.buttons.has(button)) {
          this.buttons.add(button);
          pointer.press(button);
        }
        break;
      case 'up':
        if (this.buttons.delete(button)) pointer.release(button);
        break;
      default:
        if (this.buttons.delete(button)) pointer.release(button);
        else {
          pointer.press(button);
          pointer.release(button);
        }
    }
  }

  mouseWheel(event: ClientMessageData<'mouse-wheel'>): void {
    if (!this.admit(this.mouseWheel, event, 'wheel')) return;
    const pointer = this.shared.pointer;
    if (event.x !== undefined && event.y !== undefined) {
      const p = pointer.point(event.x, event.y);
      if (p) pointer.move(p[0], p[1], false);
    }
    // Fractional notches (touchpads) add up until they make a whole one.
    this.wheelX = accumulate(this.wheelX, event.dx);
    this.wheelY = accumulate(this.wheelY, event.dy);
    const nx = Math.trunc(this.wheelX);
    const ny = Math.trunc(this.wheelY);
    this.wheelX -= nx;
    this.wheelY -= ny;
    if (ny) pointer.wheel(ny > 0 ? WHEEL.down : WHEEL.up, Math.min(MAX_NOTCHES, Math.abs(ny)));
    if (nx) pointer.wheel(nx > 0 ? WHEEL.right : WHEEL.left, Math.min(MAX_NOTCHES, Math.abs(nx)));
  }

  key(event: ClientMessageData<'key-press'>): void {
    if (!this.admit(this.key, event, 'press')) return;
    const { keyboard, waiting } = this.shared;
    const resolved = resolveKey(event.key, event.code, event.key_code);
    const selfClass = resolved ? modClassOf(resolved.keysym) : null;
    const modifiers = parseModifiers(event.modifiers);
    const action = event.action;
    if (action === 'up') {
      const id = this.keyId(event, resolved, false);
      const held = id === null ? undefined : this.keys.get(id);
      if (held && id !== null) {
        this.keys.delete(id);
        keyboard.release(held.keycode);
      } else if (selfClass) this.releaseSynthetic(selfClass);
      this.reconcile(modifiers, selfClass, true);
      return;
    }
    const loc = resolved ? keyboard.locate(resolved.keysym, true) : null;
    if (loc && 'retryAt' in loc) return waiting.deferUntil(loc.retryAt, this, () => this.key(event));
    this.reconcile(modifiers, selfClass, true);
    if (!resolved || !loc) return;
    const id = this.keyId(event, resolved, true) ?? `x:${loc.keycode}`;
    const previous = this.keys.get(id);
    if (previous) {
      // A repeat (or a second down): release + press, as the server's own autorepeat would.
      this.keys.delete(id);
      keyboard.release(previous.keycode);
    }
    keyboard.type(loc, resolved.symbol);
    if (action === 'down') this.keys.set(id, { keycode: loc.keycode, mod: selfClass });
    else keyboard.release(loc.keycode); // absent action: press + release
  }

  releaseAll(): void {
    const { keyboard, pointer } = this.shared;
    this.catchUp();
    this.shared.waiting.drop(this);
    // Ordinary keys first, then modifiers, then buttons: nothing typed with a stray modifier.
    const entries = [...this.keys.values()].sort((a, b) => (a.mod ? 1 : 0) - (b.mod ? 1 : 0));
    this.keys.clear();
    for (const held of entries) keyboard.release(held.keycode);
    for (const b of this.buttons) pointer.release(b);
    this.buttons.clear();
    this.wheelX = this.wheelY = 0;
    this.shared.holders.remove(this);
  }

  /**
   * Whether an event runs now: never while disconnected, and not while input waits for a keycode
   * (it is queued, to run again later). A 'press' may hold something, so the injector hears of it.
   */
  private admit<E>(handler: (event: E) => void, event: E, kind: 'move' | 'wheel' | 'press'): boolean {
    const { link, waiting, holders } = this.shared;
    if (!link.connected) return false;
    if (kind === 'press') {
      this.catchUp();
      holders.add(this);
    }
    if (!waiting.active) return true;
    waiting.enqueue(this, () => handler.call(this, event), kind === 'move');
    return false;
  }

  /** After the connection was lost the server holds nothing for us: forget what was pressed before. */
  private catchUp(): void {
    const epoch = this.shared.link.epoch;
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.keys.clear();
    this.buttons.clear();
  }

  /**
   * Tracking key: `code`, else `key_code`, else the keycode the key is typed with
   * (so "!" down and "1" up name the same key). Never `key` itself.
   */
  private keyId(event: ClientMessageData<'key-press'>, resolved: ResolvedKey | null, pressing: boolean): string | null {
    if (event.code) return `c:${event.code}`;
    if (event.key_code !== undefined) return `k:${event.key_code}`;
    if (!resolved) return null;
    if (pressing) return null; // the caller uses the keycode it located
    const loc = this.shared.keyboard.locate(resolved.keysym, false);
    return loc && 'keycode' in loc ? `x:${loc.keycode}` : null;
  }

  /**
   * Makes the modifiers held match what the event says. Key events (`full`) release any extra
   * modifier; mouse events only release the ones they pressed themselves (a seed client sends
   * `modifiers: []` on every mouse event, which must not lift a Shift held through key events).
   */
  private reconcile(wanted: Set<ModClass> | null, skip: ModClass | null, full: boolean): void {
    if (!wanted) return;
    const keyboard = this.shared.keyboard;
    for (const c of MOD_CLASSES) {
      if (c === skip) continue;
      let holding = false;
      for (const h of this.keys.values()) {
        if (h.mod === c) {
          holding = true;
          break;
        }
      }
      if (wanted.has(c)) {
        if (holding) continue;
        const kc = keyboard.keycodeOf(MOD_DEFAULT_KEYSYM[c]);
        if (kc === null) continue;
        keyboard.press(kc);
        this.keys.set(`mod:${c}`, { keycode: kc, mod: c });
      } else if (holding) {
        if (full) {
          for (const [id, h] of this.keys) {
            if (h.mod === c) {
              this.keys.delete(id);
              keyboard.release(h.keycode);
            }
          }
        } else this.releaseSynthetic(c);
      }
    }
  }

  private releaseSynthetic(c: ModClass): void {
    const held = this.keys.get(`mod:${c}`);
    if (!held) return;
    this.keys.delete(`mod:${c}`);
    this.shared.keyboard.release(held.keycode);
  }
}

function accumulate(acc: number, delta: number | undefined): number {
  if (delta === undefined || !Number.isFinite(delta)) return acc;
  const next = acc + delta;
  return Math.max(-MAX_NOTCHES, Math.min(MAX_NOTCHES, next));
}
