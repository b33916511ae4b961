/**
 * The signaling WebSocket index.html opened while app.js was fetched and run, handed to the client as its first
 * socket: the upgrade then overlaps the bundle's load instead of following it (bench/notes/pageopen.md).
 */
import type { WebSocketConstructor, WebSocketLike } from '../src/client/index.js';

/** What index.html's inline script leaves in `window.streamgateEarly`. */
interface EarlySocket {
  url: string;
  socket: WebSocket | null;
  /** What was dispatched before the client took the socket (its handlers missed it); `messages` is null once taken. */
  opened: boolean;
  messages: unknown[] | null;
  closed: { code: number; reason: string } | null;
}

declare global {
  interface Window {
    streamgateEarly?: EarlySocket;
  }
}

/** The URL index.html computed from `?ws=`, `?desktop=` and `?token=`, or null without its script. */
export function earlySocketUrl(): string | null {
  return window.streamgateEarly?.url ?? null;
}

/**
 * The client's WebSocket constructor: the first socket asked for at the early socket's URL is that socket
 * (its missed `open`, messages and `close` replayed to the handlers the client sets), every other one a new WebSocket.
 */
export function adoptingWebSocket(): WebSocketConstructor {
  let early = window.streamgateEarly;
  function AdoptingWebSocket(url: string): WebSocketLike {
    const taken = early;
    early = undefined;
    if (!taken?.socket || taken.url !== url) {
      taken?.socket?.close();
      return new WebSocket(url);
    }
    const socket = taken.socket;
    // The client sets its handlers right after construction: replay after that, in the order the browser
    // dispatched them. Nothing can be dispatched between construction and this microtask (same task).
    queueMicrotask(() => {
      const missed = taken.messages ?? [];
      taken.messages = null;
      if (taken.opened) socket.onopen?.(new Event('open'));
      for (const data of missed) socket.onmessage?.(new MessageEvent('message', { data }));
      if (taken.closed) socket.onclose?.(new CloseEvent('close', taken.closed));
    });
    return socket;
  }
  // Called with `new`: a constructor that returns an object makes that object the result.
  return AdoptingWebSocket as unknown as WebSocketConstructor;
}
