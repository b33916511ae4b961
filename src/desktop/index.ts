export { VirtualDesktop, DEFAULT_APP, type VirtualDesktopOptions, type VirtualDesktopEvents, type ScreenSize } from './virtual-desktop.js';
export { CursorWatcher, type CursorShape, type PointerPosition, type CursorWatcherEvents, type CursorWatcherOptions } from './cursor-watcher.js';
export { DesktopClipboard, ClipboardError, type ClipboardContent, type ClipboardErrorCode, type ClipboardEvents, type ClipboardOptions, type SelectionChange, type SelectionName } from './clipboard.js';
export { ScreenResizer, MIN_SCREEN_SIDE, type ScreenResizerOptions, type ScreenResizerEvents, type RandrState } from './resize.js';
export { DesktopFeatures, type DesktopFeatureOptions } from './desktop-features.js';
