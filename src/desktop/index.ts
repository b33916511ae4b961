export { VirtualDesktop, DEFAULT_APP, type VirtualDesktopOptions, type VirtualDesktopEvents, type ScreenSize } from './virtual-desktop.js';
