/**
 * Which video codecs this browser can decode, the codec preferences ordered by it, and the sections
 * of an answer the browser refused. Firefox without its downloaded OpenH264 plugin has no WebRTC
 * H.264: offered only H.264 it answers `m=video 0`, and when video leads the BUNDLE group the whole
 * transport, audio and the input channel with it, is gone.
 */

/** The part of `RTCRtpReceiver` asked here (absent in Node with werift). */
export interface ReceiverCapabilities {
  getCapabilities(kind: string): { codecs: { mimeType: string }[] } | null;
}

/** Codec names that carry no picture of their own: never a choice. */
const NOT_A_CODEC = new Set(['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03']);

/**
 * The video codecs (upper case, e.g. `H264`, `VP8`) the browser says it can receive, or null where it
 * cannot say (no `RTCRtpReceiver.getCapabilities`, as in Node): then nothing is reordered or refused.
 */
export function decodableVideoCodecs(receiver: ReceiverCapabilities | undefined = globalReceiver()): Set<string> | null {
  if (typeof receiver?.getCapabilities !== 'function') return null;
  let caps: ReturnType<ReceiverCapabilities['getCapabilities']>;
  try {
    caps = receiver.getCapabilities('video');
  } catch {
    return null;
  }
  if (!caps) return null;
  const names = caps.codecs.map((c) => c.mimeType.replace(/^video\//i, '').toUpperCase()).filter((n) => !NOT_A_CODEC.has(n));
  return new Set(names);
}

function globalReceiver(): ReceiverCapabilities | undefined {
  return (globalThis as { RTCRtpReceiver?: ReceiverCapabilities }).RTCRtpReceiver;
}

/**
 * The app's preferences with the codecs the browser decodes first, in the app's order, then the others
 * (a server that has nothing better may still offer them). A single codec is the app's firm choice and
 * stays as it is, as does everything when `decodable` is unknown.
 */
export function orderByDecodable(preferences: readonly string[], decodable: ReadonlySet<string> | null): string[] {
  if (!decodable || preferences.length < 2) return [...preferences];
  const can = (c: string): boolean => decodable.has(c.toUpperCase());
  return [...preferences.filter(can), ...preferences.filter((c) => !can(c))];
}

/** A media section the local answer refused (port 0) although the offer had it. */
export interface RejectedSection {
  kind: 'audio' | 'video';
  mid: string | null;
  /** The offer's codecs for it, in the offer's order (e.g. `['H264']`). */
  offeredCodecs: string[];
}

interface Section {
  kind: string;
  port: number;
  mid: string | null;
  codecs: string[];
}

function sections(sdp: string): Section[] {
  return sdp
    .split(/\r?\n(?=m=)/)
    .slice(1)
    .map((text) => {
      const m = /^m=(\S+) (\d+)/.exec(text);
      const codecs = [...text.matchAll(/^a=rtpmap:\d+ ([^/\s]+)/gm)].map((r) => r[1]!.toUpperCase()).filter((n) => !NOT_A_CODEC.has(n));
      return { kind: m?.[1] ?? '', port: Number(m?.[2] ?? 0), mid: /^a=mid:(\S+)/m.exec(text)?.[1] ?? null, codecs };
    });
}

/** The audio and video sections offered (port ≠ 0) that `answer` (created or applied) rejects (port 0), matched by position as SDP requires. */
export function rejectedSections(offer: string, answer: string): RejectedSection[] {
  const offered = sections(offer);
  const answered = sections(answer);
  const rejected: RejectedSection[] = [];
  offered.forEach((o, i) => {
    const a = answered[i];
    if ((o.kind === 'audio' || o.kind === 'video') && o.port !== 0 && a && a.port === 0) {
      rejected.push({ kind: o.kind, mid: o.mid, offeredCodecs: o.codecs });
    }
  });
  return rejected;
}

/** `video (mid 0, offered H264)`: how an error's details name a rejected section. */
export function describeSection(s: RejectedSection): string {
  return `${s.kind} (mid ${s.mid ?? '?'}, offered ${s.offeredCodecs.join(', ') || 'no codec'})`;
}
