/**
 * The viewer's boot, inlined in index.html by scripts/build-web.mjs: it starts the stream while the page is
 * still being parsed, and loads the app (main.ts) only once the first frame is shown. A page open used to be
 * the sum of the page's work and the negotiation; on a busy main thread (first style and layout, the app's
 * evaluation) every signaling step waited behind that work (bench/notes/pageopen.md). Here the negotiation goes
 * first: the socket opens at once, `hello` and `request-offer` leave on its `open`, the first offer is answered
 * with the page's own RTCPeerConnection, its stream plays in the <video>; then the app loads and its client
 * takes the session over (src/client/early-session.ts).
 *
 * Only the plain path is done here. At anything else (an `error` message, the socket closing, an offer the
 * browser refuses, no RTCPeerConnection, an exception, or no picture within FALLBACK_MS) the boot loads the app
 * at its next settled point and the client does the rest as it always did, with the messages kept for it.
 */
import { decodableVideoCodecs, orderByDecodable, rejectedSections } from '../src/client/codec-support.js';
import { Envelopes, type OutgoingMessage } from '../src/client/envelope.js';
import type { EarlyAnswer } from '../src/client/early-session.js';
import { helloData } from '../src/client/hello.js';
import { VIEWER_CAPABILITIES, VIEWER_CLIENT_INFO, chooseCodec, codecPreferences, signalingUrl, type ViewerEarly } from './viewer-config.js';

/** The app loads by then even without a picture: the client, not the boot, says what is wrong. */
const FALLBACK_MS = 3000;

interface Incoming {
  type?: unknown;
  message_id?: unknown;
  reply_to?: unknown;
  data?: { sdp?: { sdp?: unknown }; candidate?: RTCIceCandidateInit; session_config?: { ice_servers?: RTCIceServer[] } };
}

const params = new URLSearchParams(location.search);
const { codec, unplayable } = chooseCodec(params);
const early: ViewerEarly = {
  url: signalingUrl(params),
  socket: null,
  opened: false,
  messages: [],
  consumed: [],
  closed: null,
  hello: null,
  requestOffer: null,
  answered: null,
  taken: false,
  peerId: `viewer-${Math.random().toString(36).slice(2, 8)}`,
  codec,
  unplayable,
};
window.streamgateEarly = early;

let appRequested = false;
/** The answer in progress: the app is loaded only after it settles, so that the client never meets it half done. */
let negotiating: Promise<void> | null = null;
let iceServers: RTCIceServer[] = [];
/**
 * The peer connection being answered with: remote candidates wait for its offer (`held`, with their index in
 * `messages`), then count as the boot's (`applied`) once it is answered.
 */
interface Answering {
  pc: RTCPeerConnection;
  remoteSet: boolean;
  held: { index: number; candidate: RTCIceCandidateInit | undefined }[];
  applied: number[];
}
let answering: Answering | null = null;

function loadApp(): void {
  if (appRequested) return;
  appRequested = true;
  void (negotiating ?? Promise.resolve()).finally(() => {
    const link = document.querySelector<HTMLLinkElement>('link[rel="modulepreload"]');
    const script = document.createElement('script');
    script.type = 'module';
    script.src = link?.href ?? 'app.js';
    document.head.append(script);
  });
}

/** Plays `stream` in the page's <video>; the curtain lifts on its first frame and the app loads. */
function play(stream: MediaStream): void {
  const video = document.getElementById('video') as HTMLVideoElement | null;
  if (!video) {
    document.addEventListener('DOMContentLoaded', () => play(stream), { once: true });
    return;
  }
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch(() => undefined);
  const shown = (): void => {
    if (early.taken) return;
    document.body.classList.add('playing');
    loadApp();
  };
  if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(shown);
  else video.addEventListener('loadeddata', shown, { once: true });
}

async function answer(send: (m: OutgoingMessage) => void, envelopes: Envelopes, offerId: string, sdp: string): Promise<void> {
  const pc = new RTCPeerConnection({ iceServers });
  const state: Answering = { pc, remoteSet: false, held: [], applied: [] };
  answering = state;
  const found: EarlyAnswer = { offerMessageId: offerId, pc, tracks: [], stream: null, channels: [] };
  const heldLocal: RTCIceCandidate[] = [];
  let answered = false;
  pc.addEventListener('track', (ev) => {
    found.tracks.push(ev.track);
    // werift's offer may lack a=msid: then `streams` is empty and the stream is built here, as the client does.
    const stream = (found.stream ??= ev.streams[0] ?? new MediaStream());
    if (!stream.getTracks().includes(ev.track)) stream.addTrack(ev.track);
    if (ev.track.kind === 'video') play(stream);
  });
  pc.addEventListener('datachannel', (ev) => found.channels.push(ev.channel));
  pc.addEventListener('icecandidate', (ev) => {
    if (!ev.candidate?.candidate) return;
    if (answered) send(envelopes.wrap('ice-candidate', { candidate: ev.candidate.toJSON() }));
    else heldLocal.push(ev.candidate);
  });
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp });
    state.remoteSet = true;
    for (const { index, candidate } of state.held.splice(0)) {
      if (candidate) await pc.addIceCandidate(candidate);
      state.applied.push(index);
    }
    const local = await pc.createAnswer();
    // A refused section would take the shared transport down: the client asks again without that codec.
    if (rejectedSections(sdp, local.sdp ?? '').length > 0) throw new Error('the browser refused a section of the offer');
    await pc.setLocalDescription(local);
    send(envelopes.wrap('answer', { sdp: { type: 'answer', sdp: pc.localDescription?.sdp ?? local.sdp ?? '' } }));
    answered = true;
    for (const c of heldLocal) send(envelopes.wrap('ice-candidate', { candidate: c.toJSON() }));
    early.consumed.push(...state.applied);
    early.answered = found;
  } catch {
    // Nothing of it counts: the client answers the kept offer itself, with every candidate.
    pc.close();
    loadApp();
  } finally {
    answering = null;
  }
}

function onMessage(send: (m: OutgoingMessage) => void, envelopes: Envelopes, text: string): void {
  const index = early.messages.push(text) - 1;
  let m: Incoming;
  try {
    m = JSON.parse(text) as Incoming;
  } catch {
    loadApp();
    return;
  }
  if (m.type === 'welcome') iceServers = m.data?.session_config?.ice_servers ?? [];
  else if (m.type === 'error') loadApp();
  else if (m.type === 'ice-candidate') {
    const candidate = m.data?.candidate;
    if (early.answered) {
      if (candidate) early.answered.pc.addIceCandidate(candidate).catch(() => undefined);
      early.consumed.push(index);
    } else if (answering?.remoteSet) {
      if (candidate) answering.pc.addIceCandidate(candidate).catch(() => undefined);
      answering.applied.push(index);
    } else if (answering) answering.held.push({ index, candidate });
  } else if (m.type === 'offer' && m.reply_to === early.requestOffer?.message_id && !negotiating && !early.answered && typeof m.message_id === 'string') {
    const sdp = m.data?.sdp?.sdp;
    if (typeof sdp !== 'string') return loadApp();
    negotiating = answer(send, envelopes, m.message_id, sdp).finally(() => (negotiating = null));
  }
}

function start(): void {
  if (typeof RTCPeerConnection !== 'function') return loadApp();
  const envelopes = new Envelopes(early.peerId);
  const socket = new WebSocket(early.url);
  early.socket = socket;
  const send = (m: OutgoingMessage): void => {
    if (!early.taken) socket.send(JSON.stringify(m));
  };
  socket.addEventListener('open', () => {
    if (early.taken) return;
    early.opened = true;
    early.hello = envelopes.wrap('hello', helloData(VIEWER_CLIENT_INFO, null, VIEWER_CAPABILITIES));
    const preferences = orderByDecodable(codecPreferences(codec), decodableVideoCodecs());
    early.requestOffer = envelopes.wrap('request-offer', { constraints: { video: true, audio: true }, codec_preferences: preferences });
    send(early.hello);
    send(early.requestOffer);
  });
  socket.addEventListener('message', (ev: MessageEvent<unknown>) => {
    if (early.taken) return;
    if (typeof ev.data === 'string') onMessage(send, envelopes, ev.data);
    else loadApp();
  });
  socket.addEventListener('close', (ev) => {
    if (early.taken) return;
    early.closed = { code: ev.code, reason: ev.reason };
    loadApp();
  });
  setTimeout(loadApp, FALLBACK_MS);
}

try {
  start();
} catch {
  loadApp();
}
