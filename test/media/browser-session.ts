/**
 * Wires a MediaViewer to a BrowserPeer the way signaling will: offer → answer, candidates both ways
 * (the browser's are polled from the page and handed to the viewer, as if they came over the WebSocket).
 */
import type { IceCandidate } from '../../src/protocol/index.js';
import type { MediaViewer, OfferRequest, VideoCodec } from '../../src/media/types.js';
import type { BrowserPeer } from '../helpers/chromium.js';

export interface Session {
  /** The codec and SDP of the latest offer. */
  readonly codec: VideoCodec | null;
  readonly offerSdp: string;
  /** Renegotiates (a new offer with an ICE restart) as signaling does on a second request-offer. */
  renegotiate(request?: OfferRequest): Promise<void>;
  /** Stops relaying candidates. */
  stop(): void;
}

export const BOTH: OfferRequest = { video: true, audio: true, codecPreferences: ['H264', 'VP8'] };

export async function negotiate(viewer: MediaViewer, peer: BrowserPeer, request: OfferRequest): Promise<Session> {
  let stopped = false;
  let offerApplied = false;
  const early: IceCandidate[] = [];
  viewer.on('candidate', (candidate) => {
    if (offerApplied) void peer.addCandidate(candidate).catch(() => undefined);
    else early.push(candidate);
  });

  let latest: { sdp: string; codec: VideoCodec | null } = { sdp: '', codec: null };
  const exchange = async (offerRequest: OfferRequest): Promise<void> => {
    offerApplied = false;
    const offer = await viewer.createOffer(offerRequest);
    latest = offer;
    const answer = await peer.answer(offer.sdp);
    offerApplied = true;
    for (const candidate of early.splice(0)) await peer.addCandidate(candidate);
    await viewer.applyAnswer(answer);
  };

  await exchange(request);
  void (async () => {
    while (!stopped) {
      const candidates = await peer.takeCandidates().catch(() => []);
      for (const candidate of candidates) await viewer.addRemoteCandidate(candidate).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    get codec() {
      return latest.codec;
    },
    get offerSdp() {
      return latest.sdp;
    },
    renegotiate: (again = request) => exchange(again),
    stop: () => {
      stopped = true;
    },
  };
}

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

/** The seven top bars of videotestsrc's SMPTE pattern, left to right, as which of R, G, B are lit. */
export const SMPTE_BARS: readonly [boolean, boolean, boolean][] = [
  [true, true, true], // grey
  [true, true, false], // yellow
  [false, true, true], // cyan
  [false, true, false], // green
  [true, false, true], // magenta
  [true, false, false], // red
  [false, false, true], // blue
];

/** Sample points in the middle of each top bar (fractions of the picture). */
export const SMPTE_POINTS: readonly (readonly [number, number])[] = SMPTE_BARS.map((_, i) => [(i + 0.5) / 7, 0.3] as const);

/** Whether each sampled pixel has its bar's channels lit (> 120) and the others dark (< 80). */
export function looksLikeSmpteBars(pixels: [number, number, number][]): boolean {
  return pixels.every((pixel, i) =>
    SMPTE_BARS[i]!.every((lit, channel) => (lit ? pixel[channel]! > 120 : pixel[channel]! < 80)),
  );
}
