/**
 * What the viewer connects with, in one place for the two scripts that connect: the boot (boot.ts, inlined in
 * index.html), which starts the stream, and the app (main.ts), whose client carries it on. What the boot
 * announced in its `hello` is what the session keeps, so both must agree.
 */
import { decodableVideoCodecs } from '../src/client/codec-support.js';
import type { EarlySession } from '../src/client/early-session.js';

export const CODECS = ['H264', 'VP8'] as const;
export type Codec = (typeof CODECS)[number];

export const VIEWER_CLIENT_INFO = { app: 'streamgate-viewer' };
export const VIEWER_CAPABILITIES = ['clipboard', 'cursor', 'participants', 'resize'];
/** localStorage key of the codec last picked. */
export const CODEC_KEY = 'streamgate.codec';

/** What the boot leaves in `window.streamgateEarly` for the app: the session begun, and the choices it was begun with. */
export interface ViewerEarly extends EarlySession {
  peerId: string;
  codec: Codec;
  /** The codec asked for by `?codec=` or the last pick, when this browser cannot decode it (the app says so). */
  unplayable: Codec | null;
}

declare global {
  interface Window {
    streamgateEarly?: ViewerEarly;
  }
}

export function readStored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** `v` as one of the viewer's codecs, in any case, or null. */
export const toCodec = (v: string | null): Codec | null => {
  const up = (v ?? '').toUpperCase();
  return (CODECS as readonly string[]).includes(up) ? (up as Codec) : null;
};

/** Whether this browser can decode `codec` (true where it cannot say). */
export function playable(codec: Codec): boolean {
  const decodable = decodableVideoCodecs();
  return !decodable || decodable.has(codec);
}

/**
 * The codec to ask for: `?codec=`, else the last pick, if this browser decodes it (Firefox without OpenH264
 * has no H.264 and would get no picture at all); else the first it decodes.
 */
export function chooseCodec(params: URLSearchParams): { codec: Codec; unplayable: Codec | null } {
  const asked = toCodec(params.get('codec')) ?? toCodec(readStored(CODEC_KEY));
  if (asked && playable(asked)) return { codec: asked, unplayable: null };
  return { codec: CODECS.find(playable) ?? 'H264', unplayable: asked };
}

/** The video codecs in the viewer's order of preference, `codec` first. */
export function codecPreferences(codec: Codec): string[] {
  return [codec, ...CODECS.filter((x) => x !== codec)];
}

/** This origin's signaling URL: `?ws=` overrides it, `?desktop=NAME` picks /ws/NAME, `?token=` is passed on. */
export function signalingUrl(params: URLSearchParams): string {
  const desktop = params.get('desktop');
  const token = params.get('token');
  const base = params.get('ws') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${desktop ? '/' + encodeURIComponent(desktop) : ''}`;
  return base + (token ? '?token=' + encodeURIComponent(token) : '');
}
