/** What a trickle PATCH body (`application/trickle-ice-sdpfrag`, RFC 8840) carries. */
export interface SdpFragment {
  iceUfrag: string | undefined;
  icePwd: string | undefined;
  /** `candidate:` lines (without `a=`), each with the mid of the media section it came in. */
  candidates: { candidate: string; sdpMid: string | undefined }[];
}

/**
 * Reads an SDP fragment: session-level ICE credentials, then media sections (`m=`) with their `a=mid` and
 * `a=candidate` lines. Returns a message naming the bad line instead of throwing: it is the client's input.
 */
export function readSdpFragment(text: string): SdpFragment | string {
  const fragment: SdpFragment = { iceUfrag: undefined, icePwd: undefined, candidates: [] };
  let mid: string | undefined;
  let section: { candidate: string; sdpMid: string | undefined }[] = [];
  const flush = (): void => {
    fragment.candidates.push(...section.map((entry) => ({ ...entry, sdpMid: entry.sdpMid ?? mid })));
    section = [];
  };
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    if (line.startsWith('m=')) {
      flush();
      mid = undefined;
    } else if (line.startsWith('a=ice-ufrag:')) fragment.iceUfrag = line.slice(12).trim();
    else if (line.startsWith('a=ice-pwd:')) fragment.icePwd = line.slice(10).trim();
    else if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
    else if (line.startsWith('a=candidate:')) {
      if (line.split(' ').length < 8) return `malformed candidate line: ${line.slice(0, 200)}`;
      section.push({ candidate: line.slice(2), sdpMid: undefined });
    } else if (!/^(a=[\w-]+(:.*)?|[a-z]=.*)$/.test(line)) return `not an SDP line: ${line.slice(0, 200)}`;
  }
  flush();
  return fragment;
}
