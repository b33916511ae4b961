export { VirtualDesktop, DEFAULT_APP, type DesktopAudio, type VirtualDesktopOptions, type VirtualDesktopEvents, type ScreenSize } from './virtual-desktop.js';
