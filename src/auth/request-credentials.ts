import type { IncomingMessage } from 'node:http';

/** Browsers cannot set headers on a WebSocket, so the token may also ride in a subprotocol named `bearer.<token>`. */
export const BEARER_PROTOCOL_PREFIX = 'bearer.';

/** The token a request carries: `Authorization: Bearer`, then `?token=`, then a `bearer.<token>` subprotocol. */
export function requestToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const query = queryToken(request.url ?? '/');
  if (query) return query;
  const protocols = request.headers['sec-websocket-protocol'];
  const bearer = protocols
    ?.split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  return bearer?.slice(BEARER_PROTOCOL_PREFIX.length);
}

function queryToken(target: string): string | null {
  try {
    return new URL(target, 'http://x').searchParams.get('token');
  } catch {
    // A malformed request target carries no usable token.
    return null;
  }
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Cross-site WebSocket hijacking guard. Non-browser clients send no Origin and are let through (they hold
 * their own credentials); browsers must come from this same host, from localhost, or from an allowed origin.
 */
export function originAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return LOCAL_HOSTS.has(url.hostname) || url.host === request.headers.host;
}
