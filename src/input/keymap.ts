import type { KeyboardMapping } from '../desktop/x11-connection.js';
import { isCasedKeysym } from './keysyms.js';

export interface KeyLocation {
  keycode: number;
  /** 0: typed without Shift; 1: typed with Shift. */
  level: 0 | 1;
}

/**
 * The server's keyboard mapping (first group, levels 0 and 1) and the spare keycodes that keysyms
 * missing from it are bound to. Lookups are O(1); binding is done by the caller (it owns the connection).
 */
export class Keymap {
  private readonly byKeysym = new Map<number, KeyLocation>();
  private readonly rows: number[][] = [];
  /** Spare keycodes (no keysym at all), least recently used first. */
  private readonly spare: number[] = [];
  /** keycode → keysym for the spare keycodes this process bound. */
  private readonly bound = new Map<number, number>();

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
      const ks1 = row[1] ?? 0;
      if (row.every((ks) => ks === 0)) this.spare.push(kc);
      else if (previous?.bound.get(kc) === ks0 && ks0 === ks1 && row.slice(2).every((ks) => ks === 0 || ks === ks0)) {
        this.bound.set(kc, ks0);
        this.spare.push(kc);
      }
      if (ks0 !== 0 && !this.byKeysym.has(ks0)) this.byKeysym.set(ks0, { keycode: kc, level: 0 });
    }
    // Shifted symbols only where no keycode has them unshifted.
    for (let kc = mapping.minKeycode; kc <= maxKeycode; kc++) {
      const ks1 = this.rows[kc]?.[1] ?? 0;
      if (ks1 !== 0 && !this.byKeysym.has(ks1)) this.byKeysym.set(ks1, { keycode: kc, level: 1 });
    }
    // Keycode 8 is skipped by some toolkits: use it last.
    this.spare.sort((a, b) => (a === 8 ? 1 : 0) - (b === 8 ? 1 : 0) || a - b);
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
   * Picks the spare keycode for `keysym` (the least recently used one that `inUse` does not veto),
   * records the binding, and returns it; the caller sends ChangeKeyboardMapping. Null when none is free.
   */
  bind(keysym: number, inUse: (keycode: number) => boolean): number | null {
    const i = this.spare.findIndex((kc) => !inUse(kc));
    if (i < 0) return null;
    const kc = this.spare[i] as number;
    this.spare.splice(i, 1);
    this.spare.push(kc); // most recently used last
    const old = this.bound.get(kc);
    if (old !== undefined && this.byKeysym.get(old)?.keycode === kc) this.byKeysym.delete(old);
    this.bound.set(kc, keysym);
    this.rows[kc] = [keysym, keysym];
    this.byKeysym.set(keysym, { keycode: kc, level: 0 });
    return kc;
  }

  /** Marks a bound spare keycode as just used (LRU order). */
  touch(keycode: number): void {
    if (!this.bound.has(keycode)) return;
    const i = this.spare.indexOf(keycode);
    if (i >= 0) {
      this.spare.splice(i, 1);
      this.spare.push(keycode);
    }
  }

  /** Re-applies this map's bindings made since a refresh was requested onto a refreshed map. */
  carryBindings(into: Keymap, keycodes: Iterable<number>): void {
    for (const kc of keycodes) {
      const ks = this.bound.get(kc);
      if (ks === undefined || !into.spare.includes(kc)) continue;
      const old = into.bound.get(kc);
      if (old !== undefined && into.byKeysym.get(old)?.keycode === kc) into.byKeysym.delete(old);
      into.bound.set(kc, ks);
      into.rows[kc] = [ks, ks];
      into.byKeysym.set(ks, { keycode: kc, level: 0 });
    }
  }
}
