export { XConnection, XEvent, EventMask, FakeEvent, type KeyboardMapping, type XConnectionEvents, type XRawEvent } from './x11-connection.js';
