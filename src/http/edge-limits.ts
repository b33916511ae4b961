import type { Duplex } from 'node:stream';

/**
 * How long a connection may take to finish its TLS handshake, and then its HTTP request (headers and all,
 * a WebSocket upgrade included). A browser needs milliseconds; a socket that has not finished by then is
 * an idle port scan or a slowloris holding a file descriptor, and is dropped.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * How often Node looks for requests past HANDSHAKE_TIMEOUT_MS. Its default (30 s) would let a request
 * live up to 40 s; the check walks only the connections still reading a request, so it is cheap.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** An idle keep-alive HTTP connection (a page load finished) closes after this long. Node's own default. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Options for http.createServer / https.createServer that put the limits above in place. */
export const EDGE_SERVER_OPTIONS = {
  headersTimeout: HANDSHAKE_TIMEOUT_MS,
  requestTimeout: HANDSHAKE_TIMEOUT_MS,
  connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  // TLS only: the handshake before any HTTP is read.
  handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
} as const;

/**
 * The status a malformed or stalled request is answered with before its socket is closed — the same
 * choice Node makes when no 'clientError' handler is installed: 431 for headers past --max-http-header-size,
 * 408 for a request that did not arrive within HANDSHAKE_TIMEOUT_MS, 400 for everything else.
 */
function clientErrorStatus(code: string | undefined): { status: number; text: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, text: 'Request Header Fields Too Large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, text: 'Request Timeout' };
  return { status: 400, text: 'Bad Request' };
}

/** Answers a bad request with its status (when the socket can still be written) and closes it. */
export function refuseBadRequest(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, text } = clientErrorStatus(err.code);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // A peer that never reads must not keep the socket open behind a full send buffer.
  const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
