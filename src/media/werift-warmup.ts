import { RTCDtlsTransport, RTCPeerConnection } from 'werift';
import { closePeerConnection, withoutDefaultStun } from './peer-connection-lifecycle.js';

/** A loopback handshake takes ~50 ms on an idle machine; past this, the warm-up gives up (it is only a warm-up). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Makes a fresh server's first viewer as quick as its later ones. In a new process werift creates its DTLS
 * certificate (an ECDSA P-256 key, self-signed, shared by every peer connection after) on the first offer,
 * and that offer, its first candidate gathering and its first DTLS handshake run code not yet compiled:
 * measured 110–210 ms for createOffer and 40–100 ms for the gathering, against 5–20 ms each later, and 170–350 ms
 * for the first handshake's server side (tweetnacl's x25519, the ECDSA signature, werift's record layer) against
 * ~10 ms later (bench/notes/pageopen.md). One throwaway peer connection at start, with host candidates only (no
 * STUN server is asked), connected to a second one in this process over loopback, takes all of that off the
 * first viewer's path.
 */
export async function warmWerift(iceAddresses: string[]): Promise<void> {
  await RTCDtlsTransport.SetupCertificate();
  const config = { iceServers: [], iceAdditionalHostAddresses: iceAddresses, bundlePolicy: 'max-bundle' as const };
  const server = new RTCPeerConnection(config);
  const viewer = new RTCPeerConnection(config);
  let timer: NodeJS.Timeout | undefined;
  try {
    server.addTransceiver('audio', { direction: 'sendonly' });
    server.addTransceiver('video', { direction: 'sendonly' });
    server.createDataChannel('warm-up');
    const connected = new Promise<void>((resolve, reject) => {
      server.connectionStateChange.subscribe((state) => {
        if (state === 'connected') resolve();
        if (state === 'failed') reject(new Error('the loopback warm-up connection failed'));
      });
      timer = setTimeout(() => reject(new Error(`the loopback warm-up did not connect within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
      timer.unref();
    });
    const offer = await server.createOffer();
    withoutDefaultStun(server, []);
    await server.setLocalDescription(offer);
    withoutDefaultStun(viewer, []);
    await viewer.setRemoteDescription(server.localDescription!);
    await viewer.setLocalDescription(await viewer.createAnswer());
    await server.setRemoteDescription(viewer.localDescription!);
    await connected;
  } finally {
    clearTimeout(timer);
    await Promise.all([closePeerConnection(server), closePeerConnection(viewer)]);
  }
}
