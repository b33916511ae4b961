/**
 * Protocol constants without schema code: the browser SDK imports these and must not pull zod in with them.
 */

export { CloseCode } from './errors.js';

/**
 * Extension: the `hello` capability a client announces to get separate `down`/`up` for `mouse-click`
 * (docs/protocol.md, "Extensions"); without it, `down` is a whole click (the JS seed never sends `up`).
 */
export const PRESS_RELEASE_CAPABILITY = 'mouse-press-release';

/**
 * Extension: the `hello` capability of a client that wants `clipboard` notices (docs/protocol.md, "Extensions"):
 * the desktop's CLIPBOARD changed, fetch it from GET /clipboard. Sent only to the peer in control.
 */
export const CLIPBOARD_CAPABILITY = 'clipboard';

/**
 * Extension: the `hello` capability of a client that draws the desktop's cursor itself: it gets `cursor`
 * (the picture, once per serial) and `pointer` (where the controller points) (docs/protocol.md, "Extensions").
 */
export const CURSOR_CAPABILITY = 'cursor';

/**
 * Extension: the `hello` capability of a client that reads server messages on the `input` data channel: with
 * `cursor`, its `pointer` messages come there while the channel is open (docs/protocol.md, "Cursor").
 */
export const POINTER_CHANNEL_CAPABILITY = 'pointer-channel';

/**
 * Extension: the `hello` capability of a client that shows who is connected: it gets `participants` whenever
 * the list or control changes, and, while in control, `control-requested` when another peer asks for it.
 */
export const PARTICIPANTS_CAPABILITY = 'participants';

/** Extension: the `hello` capability of a client that follows the screen's size and may ask to resize it (`screen`, `resize-screen`). */
export const RESIZE_CAPABILITY = 'resize';

/** Extension: the label of the WebRTC data channel the server offers for input messages. */
export const INPUT_CHANNEL_LABEL = 'input';
