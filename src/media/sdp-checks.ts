import type { IceCandidate } from '../protocol/index.js';

/**
 * Checks werift does not make: it takes an answer with no media sections or a candidate for a media
 * section that does not exist without complaint, and the peer would wait forever for media. Each check
 * returns what is wrong in words for the peer, or null.
 */

/** The a=mid values of an SDP, in media-section order. */
export function sdpMids(sdp: string): string[] {
  return sdp
    .split(/\r?\n/)
    .filter((line) => line.startsWith('a=mid:'))
    .map((line) => line.slice('a=mid:'.length).trim());
}

function mediaSectionCount(sdp: string): number {
  return sdp.split(/\r?\n/).filter((line) => line.startsWith('m=')).length;
}

export function answerProblem(offerSdp: string, answerSdp: string): string | null {
  if (!/^v=0\r?$/m.test(answerSdp)) return 'not an SDP: there is no "v=0" line';
  const offered = mediaSectionCount(offerSdp);
  const answered = mediaSectionCount(answerSdp);
  if (answered !== offered) return `the answer has ${answered} media sections; the offer has ${offered}`;
  const offerMids = sdpMids(offerSdp).join(',');
  const answerMids = sdpMids(answerSdp).join(',');
  if (answerMids !== offerMids) return `the answer's a=mid values (${answerMids}) are not the offer's (${offerMids}): is it an answer to another offer?`;
  if (!/^a=ice-ufrag:/m.test(answerSdp)) return 'the answer has no a=ice-ufrag';
  if (!/^a=fingerprint:/m.test(answerSdp)) return 'the answer has no a=fingerprint (DTLS)';
  return null;
}

/** RFC 8839 §5.1: `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>`. */
const CANDIDATE_LINE = /^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ [a-z]+/i;

export function candidateProblem(candidate: IceCandidate, mids: readonly string[]): string | null {
  // An empty candidate string is the end-of-candidates marker.
  if (candidate.candidate === '') return null;
  if (!CANDIDATE_LINE.test(candidate.candidate)) return `"${candidate.candidate.slice(0, 80)}" is not an ICE candidate line`;
  const { sdpMid, sdpMLineIndex } = candidate;
  if (sdpMid != null && !mids.includes(sdpMid)) return `sdpMid "${sdpMid}" is not a media section of the offer (${mids.join(', ')})`;
  if (sdpMid == null && sdpMLineIndex != null && sdpMLineIndex >= mids.length) return `sdpMLineIndex ${sdpMLineIndex} is past the offer's ${mids.length} media sections`;
  if (sdpMid == null && sdpMLineIndex == null) return 'the candidate names neither sdpMid nor sdpMLineIndex';
  return null;
}

/** The codec an answer picked for the media section `mid`: the first payload type of its m= line, by name (e.g. "VP8"). */
export function answeredCodec(answerSdp: string, mid: string): string | undefined {
  const section = answerSdp.split(/\r?\n(?=m=)/).find((text) => new RegExp(`^a=mid:${mid}\\r?$`, 'm').test(text));
  const payloadType = section && /^m=\S+ [1-9]\d* \S+ (\d+)/.exec(section)?.[1];
  if (!payloadType) return undefined;
  return new RegExp(`^a=rtpmap:${payloadType} ([^/\\s]+)`, 'm').exec(section)?.[1]?.toUpperCase();
}
