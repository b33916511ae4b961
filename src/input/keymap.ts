import type { KeyboardMapping } from '../x11/x11-connection.js';
import { isCasedKeysym } from './keysyms.js';

export interface KeyLocation {
  keycode: number;
  /** 0: typed without Shift; 1: typed with Shift. */
  level: 0 | 1;
}

/** A binding onto a spare keycode: the keysyms of its levels 0 and 1. */
export type KeyRow = readonly [number, number];

export type BindResult = { keycode: number } | { retryAt: number } | null;

/**
 * The server's keyboard mapping (first group, levels 0 and 1) and the spare keycodes that keysyms
 * missing from it are bound to. Lookups are O(1); binding is done by the caller (it owns the connection).
 *
 * Spare keycodes are reused least recently used first, and never within `guardMs` of their last use:
 * Xlib translates a key event with the mapping current when the client *reads* it, so rebinding a
 * keycode whose earlier presses a client has not yet processed would retype them as the new symbol.
 */
export class Keymap {
  private readonly byKeysym = new Map<number, KeyLocation>();
  private readonly rows: number[][] = [];
  /** Spare keycodes (no keysym at all, or bound by us), least recently used first. */
  private readonly spare: number[] = [];
  /** keycode → row for the spare keycodes this process bound. */
  private readonly bound = new Map<number, KeyRow>();
  private readonly lastUse = new Map<number, number>();

  constructor(
    mapping: KeyboardMapping,
    readonly maxKeycode: number,
    previous?: Keymap,
  ) {
    const per = mapping.keysymsPerKeycode;
    for (let kc = mapping.minKeycode; kc <= maxKeycode; kc++) {
      const base = (kc - mapping.minKeycode) * per;
      const row: number[] = [];
      for (let c = 0; c < per; c++) row.push(mapping.keysyms[base + c] ?? 0);
      this.rows[kc] = row;
      const ks0 = row[0] ?? 0;
      if (row.every((ks) => ks === 0)) this.spare.push(kc);
      else {
        const ours = previous?.bound.get(kc);
        if (ours && sameRow(row, ours)) {
          this.bound.set(kc, ours);
          this.spare.push(kc);
          const used = previous?.lastUse.get(kc);
          if (used !== undefined) this.lastUse.set(kc, used);
        }
      }
      if (ks0 !== 0 && !this.byKeysym.has(ks0)) this.byKeysym.set(ks0, { keycode: kc, level: 0 });
    }
    // Shifted symbols only where no keycode has them unshifted.
    for (let kc = mapping.minKeycode; kc <= maxKeycode; kc++) {
      const ks1 = this.rows[kc]?.[1] ?? 0;
      if (ks1 !== 0 && !this.byKeysym.has(ks1)) this.byKeysym.set(ks1, { keycode: kc, level: 1 });
    }
    // Least recently used first; never used ones before, keycode 8 (skipped by some toolkits) last among those.
    const used = (kc: number) => this.lastUse.get(kc) ?? -1;
    this.spare.sort((a, b) => used(a) - used(b) || (a === 8 ? 1 : 0) - (b === 8 ? 1 : 0) || a - b);
  }

  lookup(keysym: number): KeyLocation | undefined {
    return this.byKeysym.get(keysym);
  }

  /** Whether Shift changes what this keycode types (so a held Shift must be lifted for its level 0). */
  shiftMatters(keycode: number): boolean {
    const row = this.rows[keycode];
    if (!row) return false;
    const ks1 = row[1] ?? 0;
    return ks1 !== 0 && ks1 !== row[0];
  }

  /** Whether Caps Lock turns this keycode's levels around (a letter key with a lower and an upper case). */
  capsMatters(keycode: number): boolean {
    const row = this.rows[keycode];
    return !!row && this.shiftMatters(keycode) && isCasedKeysym(row[0] ?? 0) && isCasedKeysym(row[1] ?? 0);
  }

  keysymAt(keycode: number, level: 0 | 1 = 0): number {
    return this.rows[keycode]?.[level] ?? 0;
  }

  get spareCount(): number {
    return this.spare.length;
  }

  /**
   * Picks the spare keycode for `row`: the least recently used one that `inUse` does not veto and
   * that was last used at least `guardMs` before `now`. Records the binding (the caller sends
   * ChangeKeyboardMapping) and returns it; or says when to retry; or null when every spare is vetoed.
   */
  bind(row: KeyRow, inUse: (keycode: number) => boolean, now: number, guardMs: number): BindResult {
    const i = this.spare.findIndex((kc) => !inUse(kc));
    if (i < 0) return null;
    const kc = this.spare[i] as number;
    const last = this.lastUse.get(kc);
    if (last !== undefined && now - last < guardMs) return { retryAt: last + guardMs };
    const old = this.bound.get(kc);
    if (old) for (const ks of old) if (this.byKeysym.get(ks)?.keycode === kc) this.byKeysym.delete(ks);
    this.setBinding(kc, row);
    this.touch(kc, now);
    return { keycode: kc };
  }

  private setBinding(kc: number, row: KeyRow): void {
    this.bound.set(kc, row);
    this.rows[kc] = [row[0], row[1]];
    this.byKeysym.set(row[0], { keycode: kc, level: 0 });
    if (row[1] !== row[0]) this.byKeysym.set(row[1], { keycode: kc, level: 1 });
  }

  /** Marks a bound spare keycode as used at `now` (LRU order and the reuse guard). */
  touch(keycode: number, now: number): void {
    if (!this.bound.has(keycode)) return;
    this.lastUse.set(keycode, now);
    const i = this.spare.indexOf(keycode);
    if (i >= 0 && i !== this.spare.length - 1) {
      this.spare.splice(i, 1);
      this.spare.push(keycode);
    }
  }

  /** Re-applies this map's bindings of `keycodes` (made after a refresh was requested) onto the refreshed map. */
  carryBindings(into: Keymap, keycodes: Iterable<number>): void {
    for (const kc of keycodes) {
      const row = this.bound.get(kc);
      if (!row || !into.spare.includes(kc)) continue;
      const old = into.bound.get(kc);
      if (old) for (const ks of old) if (into.byKeysym.get(ks)?.keycode === kc) into.byKeysym.delete(ks);
      into.setBinding(kc, row);
      const used = this.lastUse.get(kc);
      if (used !== undefined) into.touch(kc, used);
    }
  }
}

/** Whether the server's row is the binding we made (XKB may report a one-level row with NoSymbol in level 1). */
function sameRow(row: readonly number[], ours: KeyRow): boolean {
  const ks1 = row[1] ?? 0;
  return row[0] === ours[0] && (ks1 === ours[1] || (ks1 === 0 && ours[1] === ours[0]));
}
