export { XConnection, XEvent, EventMask, FakeEvent, type KeyboardMapping, type XConnectionEvents, type XRawEvent } from './x11-connection.js';
export { XFixes, internAtom, SelectionEventMask, type CursorImage, type XFixesEvent } from './xfixes.js';
