export { VirtualDesktop, DEFAULT_APP, type VirtualDesktopOptions, type VirtualDesktopEvents, type ScreenSize } from './virtual-desktop.js';
export { XConnection, XEvent, EventMask, FakeEvent, clampInt, type KeyboardMapping, type XRawEvent } from './x11-connection.js';
