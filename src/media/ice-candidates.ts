/** Helpers for ICE candidate strings (RFC 8839 §5.1: `candidate:<foundation> <component> <transport> <priority> <address> <port> typ …`). */

/**
 * An mDNS host candidate (`<uuid>.local`), which Chromium sends to hide local addresses. werift tries to
 * resolve each with a 10 s timeout, stalling connects (DESIGN.md); the peer-reflexive candidate learned
 * from the browser's own connectivity checks reaches the same address without it.
 */
export function isMdnsCandidate(candidate: string): boolean {
  const address = candidate.trim().split(/\s+/)[4];
  return address !== undefined && address.toLowerCase().endsWith('.local');
}

/** The candidate attributes an SDP already carries, in the `candidate:…` form of RTCIceCandidate.candidate. */
export function sdpCandidates(sdp: string): Set<string> {
  return new Set(
    sdp
      .split(/\r?\n/)
      .filter((line) => line.startsWith('a=candidate:'))
      .map((line) => line.slice(2).trim()),
  );
}
