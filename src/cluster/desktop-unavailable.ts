import { WebSocket } from 'ws';
import { CloseCode, type ErrorCode, type ServerMessage } from '../protocol/index.js';

/** What a client is told when its desktop cannot be reached: the desktop, not the node, is what it asked for. */
const UNAVAILABLE: ErrorCode = 'MEDIA_UNAVAILABLE';
/** The client SDK reconnects after it: the desktop may be back (its node restarted) or placed elsewhere by then. */
const UNAVAILABLE_CLOSE = CloseCode.TRY_AGAIN_LATER;

let counter = 0;

/** Sends MEDIA_UNAVAILABLE naming the desktop (`details: "desktop=NAME"`) and closes with 1013. */
export function closeDesktopUnavailable(ws: WebSocket, desktop: string, message: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const error: ServerMessage = {
    type: 'error',
    error: { code: UNAVAILABLE, message, details: `desktop=${desktop}` },
    message_id: `unavailable_${(++counter).toString(36)}`,
    timestamp: Date.now(),
  };
  ws.send(JSON.stringify(error));
  ws.close(UNAVAILABLE_CLOSE, `desktop ${desktop} unavailable`.slice(0, 120));
}
