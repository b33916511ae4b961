export type { InputInjector, PeerInput, ScreenSize } from './types.js';
export { X11InputInjector, type X11InputInjectorOptions, type InjectorEvents, type InjectorStats } from './x11-injector.js';
export { X11PeerInput } from './peer-input.js';
export { X_BUTTON } from './pointer-state.js';
export { resolveKey, charToKeysym, parseModifiers, XK, type ModClass, type ResolvedKey } from './keysyms.js';
export { Keymap, type KeyLocation } from './keymap.js';
