export type { InputInjector, PeerInput, VideoSize } from './types.js';
export { X11InputInjector, X11PeerInput, X_BUTTON, type X11InputInjectorOptions, type InjectorEvents, type InjectorStats } from './x11-injector.js';
export { resolveKey, charToKeysym, parseModifiers, XK, type ModClass, type ResolvedKey } from './keysyms.js';
export { Keymap, type KeyLocation } from './keymap.js';
