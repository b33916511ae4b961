import type { VideoCodec } from './types.js';

/** What a WHEP client's offer asks for, read before any peer connection exists. */
export interface OfferedMedia {
  /** The first video codec of the offer's order the server can encode; null when the offer has no video. */
  video: VideoCodec | null | 'none-acceptable';
  /**
   * With H.264, the profile-level-id of the offered format chosen: the answer names it (werift matches it
   * exactly), and the constrained-baseline stream is one every such decoder takes.
   */
  h264ProfileLevelId: string | undefined;
  /** The offer has an audio section that takes Opus. */
  audio: boolean;
  /** The offer's ICE credentials, to tell a trickle from an ICE restart later. */
  iceUfrag: string | undefined;
}

/** The offer is not an SDP offer a receiver can be answered from; the message says what is wrong. */
export class OfferProblem extends Error {
  override name = 'OfferProblem';
}

/**
 * The video format Chromium decodes what x264 is told to produce as (docs/architecture.md, "Keyframes and
 * packetization"): packetization-mode 1 and a profile that constrained baseline 42e01f fits: baseline
 * (profile_idc 0x42), or any profile whose constraint_set1 flag (0x40) says constrained-baseline compatible.
 */
function fitsOurH264(fmtp: string | undefined): { profileLevelId: string | undefined } | undefined {
  const parameters = new Map(
    (fmtp ?? '').split(';').map((pair) => {
      const [key = '', value = ''] = pair.trim().split('=');
      return [key.toLowerCase(), value.toLowerCase()] as const;
    }),
  );
  if (parameters.get('packetization-mode') !== '1') return undefined;
  const profile = parameters.get('profile-level-id');
  // RFC 6184: without profile-level-id the codec is baseline.
  if (profile === undefined) return { profileLevelId: undefined };
  if (!/^[0-9a-f]{6}$/.test(profile)) return undefined;
  const idc = parseInt(profile.slice(0, 2), 16);
  const iop = parseInt(profile.slice(2, 4), 16);
  return idc === 0x42 || (iop & 0x40) !== 0 ? { profileLevelId: profile } : undefined;
}

interface Section {
  kind: string;
  payloadTypes: string[];
  lines: string[];
}

function sections(sdp: string): { session: string[]; media: Section[] } {
  const session: string[] = [];
  const media: Section[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [kind = '', , , ...payloadTypes] = line.slice(2).split(' ');
      media.push({ kind, payloadTypes, lines: [] });
    } else if (line) {
      (media.at(-1)?.lines ?? session).push(line);
    }
  }
  return { session, media };
}

/** A media section's `a=<name>:<pt> <value>` lines by payload type. */
function byPayloadType(section: Section, name: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of section.lines) {
    const match = new RegExp(`^a=${name}:(\\d+) (.*)$`).exec(line);
    if (match) found.set(match[1]!, match[2]!);
  }
  return found;
}

/**
 * Reads a WHEP offer: its video codecs in its own order (the client's preference, RFC 3264), the first the
 * server can encode wins; audio when it takes Opus. Throws OfferProblem for what is not an offer at all.
 */
export function readOffer(sdp: string, available: readonly VideoCodec[]): OfferedMedia {
  if (!sdp.startsWith('v=0')) throw new OfferProblem('the body is not SDP: it must start with "v=0"');
  const { session, media } = sections(sdp);
  if (media.length === 0) throw new OfferProblem('the offer has no media section (m= line)');
  const ufragLine = [...session, ...media.flatMap((s) => s.lines)].find((line) => line.startsWith('a=ice-ufrag:'));
  if (!ufragLine) throw new OfferProblem('the offer has no ICE credentials (a=ice-ufrag)');
  const videoSection = media.find((section) => section.kind === 'video');
  const audioSection = media.find((section) => section.kind === 'audio');
  let video: OfferedMedia['video'] = null;
  let h264ProfileLevelId: string | undefined;
  if (videoSection) {
    const rtpmap = byPayloadType(videoSection, 'rtpmap');
    const fmtp = byPayloadType(videoSection, 'fmtp');
    video = 'none-acceptable';
    for (const pt of videoSection.payloadTypes) {
      const name = rtpmap.get(pt)?.split('/')[0]?.toUpperCase();
      const h264 = name === 'H264' && available.includes('H264') ? fitsOurH264(fmtp.get(pt)) : undefined;
      if (name === 'VP8' && available.includes('VP8')) video = 'VP8';
      else if (h264) {
        video = 'H264';
        h264ProfileLevelId = h264.profileLevelId;
      }
      if (video !== 'none-acceptable') break;
    }
  }
  const audio = audioSection !== undefined && [...byPayloadType(audioSection, 'rtpmap').values()].some((codec) => /^opus\/48000/i.test(codec));
  return { video, h264ProfileLevelId, audio, iceUfrag: ufragLine.slice('a=ice-ufrag:'.length).trim() };
}
