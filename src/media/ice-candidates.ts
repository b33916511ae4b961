/** Helpers for ICE candidate strings (RFC 8839 §5.1: `candidate:<foundation> <component> <transport> <priority> <address> <port> typ …`). */

/**
 * An mDNS host candidate (`<uuid>.local`), which Chromium sends to hide local addresses. werift tries to
 * resolve each with a 10 s timeout, stalling connects (docs/architecture.md, "werift"); the peer-reflexive candidate learned
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

/**
 * `sdp` with the given candidates (`candidate:…` form) added to every media section that lacks them.
 * werift's local description is a snapshot taken before gathering; candidates found while the offer waits
 * for gathering are only announced as events, so they are written into the offer here. Every section gets
 * them all: with BUNDLE they share one transport.
 */
export function withCandidates(sdp: string, candidates: readonly string[]): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  let section: string[] | undefined;
  const flush = (): void => {
    if (!section) return;
    const present = sdpCandidates(section.join(eol));
    const missing = candidates.filter((candidate) => !present.has(candidate)).map((candidate) => `a=${candidate}`);
    // After the connection line, where werift writes its own candidates.
    const at = section.findIndex((line) => line.startsWith('c=')) + 1;
    out.push(...section.slice(0, at || section.length), ...missing, ...section.slice(at || section.length));
    section = undefined;
  };
  for (const line of lines) {
    if (line.startsWith('m=')) {
      flush();
      section = [line];
    } else if (section) {
      section.push(line);
    } else {
      out.push(line);
    }
  }
  flush();
  return out.join(eol);
}
