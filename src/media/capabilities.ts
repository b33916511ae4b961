import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MediaError, type OfferRequest, type VideoCodec } from './types.js';

/** What the installed GStreamer can do, probed once when the service starts. */
export interface Capabilities {
  /** Video codecs in the server's own order of preference. */
  codecs: VideoCodec[];
  audio: boolean;
  /** The X capture element is installed: an `x11` source can be served. */
  x11: boolean;
}

/** What captures an X display, and the Debian package that ships it (for the message when it is missing). */
export const X11_CAPTURE = { element: 'ximagesrc', debianPackage: 'gstreamer1.0-plugins-good' } as const;

const COMMON = ['udpsink', 'videoconvert', 'videotestsrc', 'videorate', 'capsfilter'];
const NEEDS: Record<VideoCodec | 'audio', string[]> = {
  H264: ['x264enc', 'rtph264pay'],
  VP8: ['vp8enc', 'rtpvp8pay'],
  audio: ['audiotestsrc', 'audioconvert', 'audioresample', 'opusenc', 'rtpopuspay'],
};

/** One `gst-inspect-1.0` run lists every element as "plugin:  element: description". */
export async function probeCapabilities(): Promise<Capabilities> {
  let listing = '';
  try {
    listing = (await promisify(execFile)('gst-inspect-1.0', [], { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch {
    // No GStreamer: nothing is available, and the service says so per request.
  }
  const elements = new Set([...listing.matchAll(/^\S+:\s+(\S+):/gm)].map((match) => match[1]));
  const has = (names: string[]): boolean => [...COMMON, ...names].every((name) => elements.has(name));
  return {
    codecs: (['H264', 'VP8'] as const).filter((codec) => has(NEEDS[codec])),
    audio: has(NEEDS.audio),
    // Alone: without the common elements the codecs are missing, and requests say so.
    x11: elements.has(X11_CAPTURE.element),
  };
}

/**
 * The codecs to offer: those of the client's preferences (case-insensitive) the server has, in the client's
 * order; every codec the server has, in its own order, when none is given. The browser's answer picks one.
 */
export function offerCodecs(preferences: readonly string[], available: readonly VideoCodec[]): VideoCodec[] {
  if (preferences.length === 0) return [...available];
  const wanted = preferences.map((preference) => preference.toUpperCase());
  return [...new Set(wanted.flatMap((name) => available.filter((codec) => codec === name)))];
}

/** The first of the client's preferences the server has (the offer's first codec); the server's first when none given. */
export function pickCodec(preferences: readonly string[], available: readonly VideoCodec[]): VideoCodec | undefined {
  return offerCodecs(preferences, available)[0];
}

/**
 * The video codec an offer for `request` carries (null for an audio-only one). Throws the MediaError signaling
 * sends when no requested codec is available, or audio is asked for and there is no Opus encoder.
 */
export function offerCodec(request: OfferRequest, available: readonly VideoCodec[], audio: boolean): VideoCodec | null {
  const codec = request.video ? pickCodec(request.codecPreferences, available) : null;
  if (codec === undefined) {
    throw new MediaError(
      'UNSUPPORTED_CODEC',
      'none of the requested video codecs is available',
      `requested ${request.codecPreferences.join(', ') || 'none'}; available ${available.join(', ') || 'none'}`,
    );
  }
  if (request.audio && !audio) throw new MediaError('MEDIA_UNAVAILABLE', 'audio encoding (Opus) is not available on this server');
  return codec;
}
