import type { RTCPeerConnection } from 'werift';
import type { Logger } from '../log.js';
import type { MediaSettings } from './types.js';

/** How long a peer connection's own close() may take before its ICE sockets are closed directly. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * Closes a werift peer connection and, whatever state it was in, its ICE sockets: under churn (peers leaving
 * mid-handshake) a close() that never settles, or settles with ICE still open, left UDP ports bound for good.
 */
export async function closePeerConnection(pc: RTCPeerConnection): Promise<void> {
  const transports = pc.iceTransports;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([pc.close(), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
  clearTimeout(timer);
  await Promise.allSettled(transports.map((transport) => transport.connection.close()));
}

/**
 * werift's ICE falls back to stun.l.google.com whenever no STUN server is configured (iceServers: [] is not
 * enough), so every gathering looked that name up: DNS queries to an unreachable resolver held sockets and
 * delayed gathering by the STUN timeout (found by the negotiation-churn test). Without a configured STUN
 * server, the fallback is removed before gathering starts (again on every offer: an ICE restart re-derives it).
 */
export function withoutDefaultStun(pc: RTCPeerConnection, iceServers: MediaSettings['iceServers']): void {
  const configured = iceServers.some((server) => [server.urls].flat().some((url) => url.startsWith('stun:')));
  if (configured) return;
  for (const transport of pc.iceTransports) transport.connection.stunServer = undefined;
}

/**
 * werift 0.25's connect() skips an ICE transport whose DTLS is still up, so after an ICE restart the
 * new checks never start and media stops. Starting such transports once the answer is applied completes the restart.
 */
export function resumeRestartedIce(pc: RTCPeerConnection, log: Logger): void {
  for (const transport of pc.iceTransports) {
    if (transport.connection.nominated) continue;
    transport.start().catch((err: unknown) => log.warn({ err }, 'ICE restart failed'));
  }
}
