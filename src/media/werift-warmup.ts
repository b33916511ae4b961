import { RTCDtlsTransport, RTCPeerConnection } from 'werift';
import { closePeerConnection, withoutDefaultStun } from './peer-connection-lifecycle.js';

/**
 * Makes a fresh server's first offer as quick as its later ones. In a new process werift creates its DTLS
 * certificate (an ECDSA P-256 key, self-signed, shared by every peer connection after) on the first offer,
 * and that offer and its first candidate gathering run code not yet compiled: measured 110–210 ms for
 * createOffer and 40–100 ms for the gathering, against 5–20 ms each later (bench/notes/pageopen.md). One
 * throwaway offer at start, with host candidates only (no STUN server is asked), takes that off the first
 * viewer's path.
 */
export async function warmWerift(iceAddresses: string[]): Promise<void> {
  await RTCDtlsTransport.SetupCertificate();
  const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: iceAddresses, bundlePolicy: 'max-bundle' });
  try {
    pc.addTransceiver('audio', { direction: 'sendonly' });
    pc.addTransceiver('video', { direction: 'sendonly' });
    pc.createDataChannel('warm-up');
    const offer = await pc.createOffer();
    withoutDefaultStun(pc, []);
    await pc.setLocalDescription(offer);
  } finally {
    await closePeerConnection(pc);
  }
}
