import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { sameSecret } from '../auth/same-secret.js';

/**
 * How an owner node tells a relayed connection from a direct one. The client's own credentials travel
 * unchanged and the owner checks them itself, so a relay vouches for nothing but where the client is: its
 * address (for per-IP limits and logs), signed with the cluster secret. An unsigned or stale claim is
 * ignored and the relay node's own address counts, as for any client.
 */
export const RELAY_HEADERS = {
  /** The node that relays: also what stops a relayed request from being relayed again. */
  node: 'x-streamgate-relay-node',
  clientAddress: 'x-streamgate-client-address',
  /** `<epoch ms>.<hex HMAC-SHA256 of node, address and time>` under the cluster secret. */
  signature: 'x-streamgate-relay-signature',
} as const;

/** Clocks of two hosts may differ by this much, and a signature is good for as long. */
const SIGNATURE_WINDOW_MS = 60_000;

function sign(secret: string, nodeId: string, clientAddress: string, at: number): string {
  return createHmac('sha256', secret).update(`${nodeId}\n${clientAddress}\n${at}`).digest('hex');
}

/** The headers a relay adds to its request to the owner; without a cluster secret, the address is not sent. */
export function relayHeaders(nodeId: string, clientAddress: string, secret: string | undefined, now = Date.now()): Record<string, string> {
  if (!secret) return { [RELAY_HEADERS.node]: nodeId };
  return {
    [RELAY_HEADERS.node]: nodeId,
    [RELAY_HEADERS.clientAddress]: clientAddress,
    [RELAY_HEADERS.signature]: `${now}.${sign(secret, nodeId, clientAddress, now)}`,
  };
}

/** True when another node relays this request: the owner must serve it or refuse it, never relay it on. */
export function isRelayed(request: IncomingMessage): boolean {
  return request.headers[RELAY_HEADERS.node] !== undefined;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The client's address as a relay node vouches for it, or null when the request is direct or the claim is
 * not signed with `secret` within the time window (then the connection's own address is the one to use).
 */
export function relayedClientAddress(request: IncomingMessage, secret: string | undefined, now = Date.now()): string | null {
  if (!secret) return null;
  const nodeId = single(request.headers, RELAY_HEADERS.node);
  const clientAddress = single(request.headers, RELAY_HEADERS.clientAddress);
  const signature = single(request.headers, RELAY_HEADERS.signature);
  if (nodeId === undefined || clientAddress === undefined || signature === undefined) return null;
  const dot = signature.indexOf('.');
  const at = Number(signature.slice(0, dot));
  if (dot < 0 || !Number.isSafeInteger(at) || Math.abs(now - at) > SIGNATURE_WINDOW_MS) return null;
  return sameSecret(signature.slice(dot + 1), sign(secret, nodeId, clientAddress, at)) ? clientAddress : null;
}
