/**
 * DOM keyboard values → X keysyms. Pure tables and functions, no I/O.
 *
 * Three inputs, in this order of preference:
 * - `KeyboardEvent.key`: a named key ("Enter", "ArrowLeft", "F5", "Shift") or the character typed
 *   ("a", "A", "!", "é", "ж"). A character is a *symbol*: it is typed with Shift when the keymap needs it.
 * - `KeyboardEvent.code`: the physical key ("KeyA", "Digit1", "ShiftRight"), on a US layout.
 * - the legacy `keyCode` (65 = A, 13 = Enter …), also physical.
 * Physical keys are pressed as they are: the modifiers the peer holds decide what they type.
 */

export const NoSymbol = 0;

export const XK = {
  BackSpace: 0xff08,
  Tab: 0xff09,
  Clear: 0xff0b,
  Return: 0xff0d,
  Pause: 0xff13,
  Scroll_Lock: 0xff14,
  Escape: 0xff1b,
  Home: 0xff50,
  Left: 0xff51,
  Up: 0xff52,
  Right: 0xff53,
  Down: 0xff54,
  Prior: 0xff55,
  Next: 0xff56,
  End: 0xff57,
  Select: 0xff60,
  Print: 0xff61,
  Execute: 0xff62,
  Insert: 0xff63,
  Undo: 0xff65,
  Redo: 0xff66,
  Menu: 0xff67,
  Find: 0xff68,
  Cancel: 0xff69,
  Help: 0xff6a,
  Num_Lock: 0xff7f,
  KP_Enter: 0xff8d,
  KP_Multiply: 0xffaa,
  KP_Add: 0xffab,
  KP_Separator: 0xffac,
  KP_Subtract: 0xffad,
  KP_Decimal: 0xffae,
  KP_Divide: 0xffaf,
  KP_0: 0xffb0,
  KP_Equal: 0xffbd,
  F1: 0xffbe,
  Shift_L: 0xffe1,
  Shift_R: 0xffe2,
  Control_L: 0xffe3,
  Control_R: 0xffe4,
  Caps_Lock: 0xffe5,
  Meta_L: 0xffe7,
  Meta_R: 0xffe8,
  Alt_L: 0xffe9,
  Alt_R: 0xffea,
  Super_L: 0xffeb,
  Super_R: 0xffec,
  Hyper_L: 0xffed,
  Hyper_R: 0xffee,
  ISO_Level3_Shift: 0xfe03,
  Delete: 0xffff,
  space: 0x20,
} as const;

/** The four modifiers a peer's `modifiers` field speaks of. */
export type ModClass = 'shift' | 'ctrl' | 'alt' | 'meta';
export const MOD_CLASSES: readonly ModClass[] = ['shift', 'ctrl', 'alt', 'meta'];

/** The key pressed when a peer says a modifier is held but holds no key of that class. */
export const MOD_DEFAULT_KEYSYM: Readonly<Record<ModClass, number>> = {
  shift: XK.Shift_L,
  ctrl: XK.Control_L,
  alt: XK.Alt_L,
  meta: XK.Super_L,
};

export function modClassOf(keysym: number): ModClass | null {
  switch (keysym) {
    case XK.Shift_L:
    case XK.Shift_R:
      return 'shift';
    case XK.Control_L:
    case XK.Control_R:
      return 'ctrl';
    case XK.Alt_L:
    case XK.Alt_R:
    case XK.Meta_L:
    case XK.Meta_R:
      return 'alt';
    case XK.Super_L:
    case XK.Super_R:
    case XK.Hyper_L:
    case XK.Hyper_R:
      return 'meta';
    default:
      return null;
  }
}

function fKeys(prefix: string, count: number): [string, number][] {
  return Array.from({ length: count }, (_, i) => [`${prefix}${i + 1}`, XK.F1 + i] as [string, number]);
}

/** Names that are both a `KeyboardEvent.key` and a `KeyboardEvent.code` value, with the same keysym. */
const KEY_AND_CODE_NAMES: [string, number][] = [
  ['Enter', XK.Return],
  ['Tab', XK.Tab],
  ['Backspace', XK.BackSpace],
  ['Escape', XK.Escape],
  ['Delete', XK.Delete],
  ['Insert', XK.Insert],
  ['Home', XK.Home],
  ['End', XK.End],
  ['PageUp', XK.Prior],
  ['PageDown', XK.Next],
  ['ArrowLeft', XK.Left],
  ['ArrowUp', XK.Up],
  ['ArrowRight', XK.Right],
  ['ArrowDown', XK.Down],
  ['CapsLock', XK.Caps_Lock],
  ['NumLock', XK.Num_Lock],
  ['ScrollLock', XK.Scroll_Lock],
  ['Pause', XK.Pause],
  ['PrintScreen', XK.Print],
  ['ContextMenu', XK.Menu],
  ...fKeys('F', 24),
];

/** Named `KeyboardEvent.key` values (including a few legacy spellings). */
const NAMED_KEYS = new Map<string, number>([
  ...KEY_AND_CODE_NAMES,
  ['Esc', XK.Escape],
  ['Del', XK.Delete],
  ['Left', XK.Left],
  ['Up', XK.Up],
  ['Right', XK.Right],
  ['Down', XK.Down],
  ['Shift', XK.Shift_L],
  ['Control', XK.Control_L],
  ['Alt', XK.Alt_L],
  ['Meta', XK.Super_L],
  ['OS', XK.Super_L],
  ['Super', XK.Super_L],
  ['Win', XK.Super_L],
  ['Hyper', XK.Hyper_L],
  ['AltGraph', XK.ISO_Level3_Shift],
  ['Scroll', XK.Scroll_Lock],
  ['Apps', XK.Menu],
  ['Clear', XK.Clear],
  ['Help', XK.Help],
  ['Cancel', XK.Cancel],
  ['Find', XK.Find],
  ['Undo', XK.Undo],
  ['Redo', XK.Redo],
  ['Select', XK.Select],
  ['Execute', XK.Execute],
  ['Spacebar', XK.space],
  ['AudioVolumeMute', 0x1008ff12],
  ['AudioVolumeDown', 0x1008ff11],
  ['AudioVolumeUp', 0x1008ff13],
  ['MediaPlayPause', 0x1008ff14],
  ['MediaStop', 0x1008ff15],
  ['MediaTrackPrevious', 0x1008ff16],
  ['MediaTrackNext', 0x1008ff17],
]);

/** Right-hand variants, chosen by `code`. */
const RIGHT_HAND = new Map<number, number>([
  [XK.Shift_L, XK.Shift_R],
  [XK.Control_L, XK.Control_R],
  [XK.Alt_L, XK.Alt_R],
  [XK.Super_L, XK.Super_R],
]);

const US_PUNCTUATION: Record<string, string> = {
  Minus: '-',
  Equal: '=',
  BracketLeft: '[',
  BracketRight: ']',
  Backslash: '\\',
  Semicolon: ';',
  Quote: "'",
  Backquote: '`',
  Comma: ',',
  Period: '.',
  Slash: '/',
  Space: ' ',
  IntlBackslash: '<',
};

/** Physical `KeyboardEvent.code` values → the keysym of that key on a US layout, unshifted. */
const CODES = new Map<string, number>([
  ...KEY_AND_CODE_NAMES,
  ['ShiftLeft', XK.Shift_L],
  ['ShiftRight', XK.Shift_R],
  ['ControlLeft', XK.Control_L],
  ['ControlRight', XK.Control_R],
  ['AltLeft', XK.Alt_L],
  ['AltRight', XK.Alt_R],
  ['MetaLeft', XK.Super_L],
  ['MetaRight', XK.Super_R],
  ['OSLeft', XK.Super_L],
  ['OSRight', XK.Super_R],
  ['NumpadEnter', XK.KP_Enter],
  ['NumpadMultiply', XK.KP_Multiply],
  ['NumpadAdd', XK.KP_Add],
  ['NumpadSubtract', XK.KP_Subtract],
  ['NumpadDecimal', XK.KP_Decimal],
  ['NumpadDivide', XK.KP_Divide],
  ['NumpadEqual', XK.KP_Equal],
  ...Array.from({ length: 10 }, (_, i) => [`Numpad${i}`, XK.KP_0 + i] as [string, number]),
  ...Array.from({ length: 10 }, (_, i) => [`Digit${i}`, 0x30 + i] as [string, number]),
  ...Array.from({ length: 26 }, (_, i) => [`Key${String.fromCharCode(65 + i)}`, 0x61 + i] as [string, number]),
  ...Object.entries(US_PUNCTUATION).map(([code, ch]) => [code, ch.charCodeAt(0)] as [string, number]),
]);

/** Legacy `keyCode` values → keysym (physical, unshifted). */
const KEY_CODES = new Map<number, number>([
  [8, XK.BackSpace],
  [9, XK.Tab],
  [12, XK.Clear],
  [13, XK.Return],
  [16, XK.Shift_L],
  [17, XK.Control_L],
  [18, XK.Alt_L],
  [19, XK.Pause],
  [20, XK.Caps_Lock],
  [27, XK.Escape],
  [32, XK.space],
  [33, XK.Prior],
  [34, XK.Next],
  [35, XK.End],
  [36, XK.Home],
  [37, XK.Left],
  [38, XK.Up],
  [39, XK.Right],
  [40, XK.Down],
  [44, XK.Print],
  [45, XK.Insert],
  [46, XK.Delete],
  [91, XK.Super_L],
  [92, XK.Super_R],
  [93, XK.Menu],
  [106, XK.KP_Multiply],
  [107, XK.KP_Add],
  [108, XK.KP_Separator],
  [109, XK.KP_Subtract],
  [110, XK.KP_Decimal],
  [111, XK.KP_Divide],
  [144, XK.Num_Lock],
  [145, XK.Scroll_Lock],
  [186, 0x3b], // ;
  [187, 0x3d], // =
  [188, 0x2c], // ,
  [189, 0x2d], // -
  [190, 0x2e], // .
  [191, 0x2f], // /
  [192, 0x60], // `
  [219, 0x5b], // [
  [220, 0x5c], // \
  [221, 0x5d], // ]
  [222, 0x27], // '
  ...Array.from({ length: 10 }, (_, i) => [48 + i, 0x30 + i] as [number, number]),
  ...Array.from({ length: 26 }, (_, i) => [65 + i, 0x61 + i] as [number, number]),
  ...Array.from({ length: 10 }, (_, i) => [96 + i, XK.KP_0 + i] as [number, number]),
  ...Array.from({ length: 24 }, (_, i) => [112 + i, XK.F1 + i] as [number, number]),
]);

/** The keysym of one character: Latin-1 is its own keysym, the rest 0x1000000 + code point. */
export function charToKeysym(ch: string): number | null {
  const cp = ch.codePointAt(0);
  if (cp === undefined || ch.length > (cp > 0xffff ? 2 : 1)) return null;
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  switch (cp) {
    case 0x0a:
    case 0x0d:
      return XK.Return;
    case 0x09:
      return XK.Tab;
    case 0x08:
      return XK.BackSpace;
    case 0x1b:
      return XK.Escape;
    case 0x7f:
      return XK.Delete;
  }
  if (cp < 0x100) return null; // other control characters
  if (cp >= 0xd800 && cp <= 0xdfff) return null; // lone surrogate
  return 0x1000000 + cp;
}

/** The character a keysym stands for (Latin-1 or Unicode keysyms), or null. */
function keysymToChar(keysym: number): string | null {
  if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff)) return String.fromCharCode(keysym);
  if (keysym >= 0x1000100 && keysym <= 0x110ffff) return String.fromCodePoint(keysym - 0x1000000);
  return null;
}

/**
 * The row a keysym missing from the keymap is bound with: a letter with its other case (like a real
 * layout: `ж` types `Ж` with Shift), anything else on both levels.
 */
export function bindingRow(keysym: number): readonly [number, number] {
  const ch = keysymToChar(keysym);
  if (ch === null) return [keysym, keysym];
  const lower = charToKeysym(ch.toLowerCase());
  const upper = charToKeysym(ch.toUpperCase());
  if (lower === null || upper === null || lower === upper || (keysym !== lower && keysym !== upper)) return [keysym, keysym];
  return [lower, upper];
}

export interface ResolvedKey {
  keysym: number;
  /**
   * true: a symbol (from `key`): typed at whatever shift level gives it.
   * false: a physical key (named key, `code`, `keyCode`): pressed as is.
   */
  symbol: boolean;
}

/** Resolves a key event to a keysym, or null when none of key / code / key_code means anything. */
export function resolveKey(key: string | undefined, code: string | undefined, keyCode: number | undefined): ResolvedKey | null {
  if (key !== undefined) {
    const named = NAMED_KEYS.get(key);
    if (named !== undefined) {
      const right = code !== undefined && code.endsWith('Right') ? RIGHT_HAND.get(named) : undefined;
      if (right !== undefined) return { keysym: right, symbol: false };
      if (named === XK.Return && code === 'NumpadEnter') return { keysym: XK.KP_Enter, symbol: false };
      return { keysym: named, symbol: false };
    }
    const ks = charToKeysym(key);
    if (ks !== null) return { keysym: ks, symbol: true };
    // "Dead", "Unidentified", "Process" …: fall back to the physical key.
  }
  if (code !== undefined) {
    const ks = CODES.get(code);
    if (ks !== undefined) return { keysym: ks, symbol: false };
  }
  if (keyCode !== undefined) {
    const ks = KEY_CODES.get(keyCode);
    if (ks !== undefined) return { keysym: ks, symbol: false };
  }
  return null;
}

const MOD_ALIASES: Readonly<Record<string, ModClass>> = {
  shift: 'shift',
  ctrl: 'ctrl',
  control: 'ctrl',
  alt: 'alt',
  option: 'alt',
  meta: 'meta',
  super: 'meta',
  os: 'meta',
  win: 'meta',
  cmd: 'meta',
  command: 'meta',
};

export type ModifiersInput = readonly string[] | { shift?: boolean | undefined; ctrl?: boolean | undefined; alt?: boolean | undefined; meta?: boolean | undefined };

/** The set of modifier classes an event says are held; null when the event says nothing. */
export function parseModifiers(modifiers: ModifiersInput | undefined): Set<ModClass> | null {
  if (modifiers === undefined) return null;
  const held = new Set<ModClass>();
  if (Array.isArray(modifiers)) {
    for (const m of modifiers as readonly string[]) {
      const c = MOD_ALIASES[m.toLowerCase()];
      if (c) held.add(c);
    }
  } else {
    const o = modifiers as Exclude<ModifiersInput, readonly string[]>;
    for (const c of MOD_CLASSES) if (o[c] === true) held.add(c);
  }
  return held;
}

/** A letter keysym (cased): Caps Lock turns its level around. */
export function isCasedKeysym(keysym: number): boolean {
  return (
    (keysym >= 0x41 && keysym <= 0x5a) ||
    (keysym >= 0x61 && keysym <= 0x7a) ||
    (keysym >= 0xc0 && keysym <= 0xfe && keysym !== 0xd7 && keysym !== 0xf7 && keysym !== 0xdf)
  );
}
