/**
 * The viewer at `/`: connects to this origin's /ws, plays the stream, forwards input, and says
 * plainly what is going on (connecting, live, reconnecting in N s, what went wrong and what to do,
 * who has control); the words are in messages.ts.
 * Test hooks: `document.body.dataset.state`, `body.playing`, and `window.streamgate`.
 */
import { StreamgateClient, StreamgateError, decodableVideoCodecs, type MediaStatsSummary, type StateChange } from '../src/client/index.js';
import { attachFilePanel } from './files.js';
import { attachClipboard } from './clipboard.js';
import { attachCursor } from './cursor.js';
import { attachParticipants } from './participants.js';
import { attachFitScreen } from './fit-screen.js';
import { refreshCongestion } from './congestion.js';
import { showDesktopPicker } from './desktop-picker.js';
import { CODEC_KEY, VIEWER_CAPABILITIES, VIEWER_CLIENT_INFO, codecPreferences as preferences, playable, readStored, toCodec, type Codec } from './viewer-config.js';
import { describeError, describeState, viewOnlyOf, type ViewOnly } from './messages.js';

const KEYS = { codec: CODEC_KEY, keyboard: 'streamgate.keyboard', stats: 'streamgate.stats' };

const store = {
  get: readStored,
  set(key: string, value: string): void {
    try {
      localStorage.setItem(key, value);
    } catch {
      /* private mode: not persisted */
    }
  },
};

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`viewer markup lacks #${id}`);
  return e as T;
}

const body = document.body;
const stage = el('stage');
const video = el<HTMLVideoElement>('video');
const statusText = el('status-text');
const curtainText = el('curtain-text');
const codecSelect = el<HTMLSelectElement>('codec');
const btnKeyboard = el<HTMLButtonElement>('btn-keyboard');
const btnStats = el<HTMLButtonElement>('btn-stats');
const btnAudio = el<HTMLButtonElement>('btn-audio');
const btnFullscreen = el<HTMLButtonElement>('btn-fullscreen');
const btnControl = el<HTMLButtonElement>('btn-control');
const statsPanel = el('stats');
const btnClipboard = el<HTMLButtonElement>('btn-clipboard');

const params = new URLSearchParams(location.search);
// index.html's boot chose the codec, made the socket's URL (`?ws=`, `?desktop=`, `?token=`) and began the session.
const early = window.streamgateEarly;
if (!early) throw new Error('index.html did not begin the session (window.streamgateEarly)');
let codec: Codec = early.codec;
const token = params.get('token');
// `?desktop=NAME` opens that desktop (`/ws/NAME`); without it, the server's default one.
const desktop = params.get('desktop');

void showDesktopPicker(el<HTMLSelectElement>('desktop'), desktop, token);

const client = new StreamgateClient({
  url: early.url,
  early,
  peerId: early.peerId,
  video,
  codecPreferences: preferences(codec),
  clientInfo: VIEWER_CLIENT_INFO,
  capabilities: VIEWER_CAPABILITIES,
});

// ------------------------------------------------------------------ status

let state: StateChange = { state: 'idle', previous: 'idle' };
let welcomed = false;
/** Why this viewer's input does not reach the desktop, or null when it does. */
let viewOnly: ViewOnly | null = null;
/** Peers' names (`peer_id`) by session, from `participants`: the bar names the controller as the overlay does. */
const peerNames = new Map<string, string>();
let lastError: StreamgateError | null = null;
/** An error stays in the status line at least this long, even while live (e.g. RATE_LIMITED). */
const ERROR_SHOWN_MS = 8000;
let errorUntil = 0;
let errorTimer: ReturnType<typeof setTimeout> | null = null;
let countdown: ReturnType<typeof setInterval> | null = null;

function render(): void {
  body.dataset.state = state.state;
  const videoSize = video.videoWidth ? ` · ${video.videoWidth}×${video.videoHeight}` : '';
  const named = viewOnly?.why === 'other' ? { ...viewOnly, name: peerNames.get(viewOnly.controller) } : viewOnly;
  let { status, curtain } = describeState(state, { welcomed, videoSize, viewOnly: named });
  const showError = lastError !== null && state.state !== 'reconnecting' && (state.state !== 'live' || Date.now() < errorUntil);
  body.classList.toggle('has-error', showError || state.state === 'closed');
  if (showError && lastError) {
    status = describeError(lastError, { hasToken: token !== null });
    curtain = status.replace(/^Error: /, '');
  }
  statusText.textContent = status;
  statusText.parentElement!.title = status;
  curtainText.textContent = curtain;
  btnControl.hidden = !(viewOnly && (viewOnly.why === 'unknown' || viewOnly.why === 'other'));
  btnClipboard.hidden = !welcomed || viewOnly !== null;
}

function showError(e: StreamgateError): void {
  lastError = e;
  errorUntil = Date.now() + ERROR_SHOWN_MS;
  if (errorTimer) clearTimeout(errorTimer);
  errorTimer = setTimeout(render, ERROR_SHOWN_MS + 50);
  render();
}

client.on('state', (s) => {
  state = s;
  if (countdown) clearInterval(countdown);
  countdown = s.state === 'reconnecting' ? setInterval(render, 250) : null;
  render();
});

/** View only: who controls is asked at once (the refusal names the controller; a free control is granted). */
function setInputEnabled(enabled: boolean, controller: string | null): void {
  const session = client.session;
  const source = session?.session_config.source ?? '';
  if (enabled) viewOnly = null;
  else if (source === 'test') viewOnly = { why: 'source', source };
  else if (controller && controller !== session?.session_id) viewOnly = { why: 'other', controller };
  else viewOnly ??= { why: 'unknown' };
  render();
}

client.on('welcome', (m) => {
  welcomed = true;
  // The same session resumed keeps its control; a new one asks anew.
  if (!m.data.resumed) viewOnly = null;
  setInputEnabled(m.data.session_config.input_enabled, null);
  if (viewOnly?.why === 'unknown') client.requestControl();
});
client.on('control', (m) => setInputEnabled(m.data.input_enabled, m.data.controller_session_id));
client.on('participants', (m) => {
  peerNames.clear();
  for (const p of m.data.participants) if (p.peer_id !== undefined) peerNames.set(p.session_id, String(p.peer_id));
  render();
});
btnControl.addEventListener('click', () => {
  btnControl.blur();
  client.requestControl();
});

client.on('error', (e) => {
  console.warn(`streamgate: ${e.code}: ${e.message}${e.details ? ` (${e.details})` : ''}`);
  const refusal = viewOnlyOf(e, client.sessionConfig?.source ?? '');
  if (refusal) {
    viewOnly = refusal;
    render();
    return;
  }
  // Server errors are what a person needs to see; local ones too when they stop the stream.
  if (e.source === 'server' || ['NEGOTIATION_FAILED', 'NOT_SUPPORTED', 'UNSUPPORTED_CODEC'].includes(e.code)) showError(e);
});

// ------------------------------------------------------------------ video

function updatePlaying(): void {
  const playing = video.readyState >= 2 && video.videoWidth > 0;
  body.classList.toggle('playing', playing);
  // Video flowing again answers an earlier "media unavailable" or failed negotiation.
  if (playing && lastError && ['MEDIA_UNAVAILABLE', 'NEGOTIATION_FAILED'].includes(lastError.code)) lastError = null;
  render();
}
for (const ev of ['playing', 'loadeddata', 'resize', 'emptied', 'waiting']) video.addEventListener(ev, updatePlaying);
client.on('track', () => {
  updateAudioButton();
  updatePlaying();
});

// ------------------------------------------------------------------ input

const isUiTarget = (t: EventTarget | null): boolean => t instanceof Element && t.closest('.bar, .panel') !== null;
let keyboardOn = store.get(KEYS.keyboard) !== 'off';
const input = client.attachInput(video, {
  keyboardTarget: window,
  keyboard: keyboardOn,
  captureKey: (e) => !isUiTarget(e.target),
});

function setKeyboard(on: boolean): void {
  keyboardOn = on;
  input.setKeyboardEnabled(on);
  btnKeyboard.setAttribute('aria-pressed', String(on));
  btnKeyboard.title = on ? 'Keyboard input goes to the remote screen (click to stop)' : 'Keyboard input stays in this page (click to send it)';
  store.set(KEYS.keyboard, on ? 'on' : 'off');
  void lockKeys();
}
btnKeyboard.addEventListener('click', () => setKeyboard(!keyboardOn));

// Show the bar while live when the pointer nears the top edge.
document.addEventListener('pointermove', (e) => body.classList.toggle('pointer-top', e.clientY < 56), { passive: true });

// ------------------------------------------------------------------ fullscreen, audio, codec

type KeyboardLock = { lock?: (keys?: string[]) => Promise<void>; unlock?: () => void };
const keyboardApi = (navigator as Navigator & { keyboard?: KeyboardLock }).keyboard;
async function lockKeys(): Promise<void> {
  // In fullscreen the Keyboard Lock API lets Esc, Alt+Tab-like keys reach the remote desktop.
  try {
    if (document.fullscreenElement && keyboardOn) await keyboardApi?.lock?.();
    else keyboardApi?.unlock?.();
  } catch {
    /* not supported */
  }
}
btnFullscreen.addEventListener('click', () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void stage.requestFullscreen({ navigationUI: 'hide' }).catch(() => {});
});
document.addEventListener('fullscreenchange', () => {
  btnFullscreen.setAttribute('aria-pressed', String(document.fullscreenElement !== null));
  void lockKeys();
});

const WAVES_OFF = 'M17 8l5 8M22 8l-5 8';
const WAVES_ON = 'M16 9a4 4 0 0 1 0 6M19 6a8 8 0 0 1 0 12';
function updateAudioButton(): void {
  const hasAudio = (client.stream?.getAudioTracks().length ?? 0) > 0;
  btnAudio.hidden = !hasAudio;
  btnAudio.setAttribute('aria-pressed', String(!video.muted));
  el('audio-label').textContent = video.muted ? 'Unmute' : 'Mute';
  btnAudio.title = video.muted ? 'Unmute' : 'Mute';
  document.getElementById('audio-waves')?.setAttribute('d', video.muted ? WAVES_OFF : WAVES_ON);
}
btnAudio.addEventListener('click', () => {
  video.muted = !video.muted;
  void video.play().catch(() => {});
  updateAudioButton();
});
video.addEventListener('volumechange', updateAudioButton);

for (const option of codecSelect.options) {
  if (playable(option.value as Codec)) continue;
  option.disabled = true;
  option.textContent += ' (this browser cannot play it)';
}
codecSelect.value = codec;
codecSelect.addEventListener('change', () => {
  codec = toCodec(codecSelect.value) ?? 'H264';
  store.set(KEYS.codec, codec);
  codecSelect.blur();
  client.requestOffer(undefined, preferences(codec)).catch(() => {});
});

// ------------------------------------------------------------------ stats overlay

const statsFields = {
  res: el('s-res'),
  fps: el('s-fps'),
  bitrate: el('s-bitrate'),
  rtt: el('s-rtt'),
  loss: el('s-loss'),
  codec: el('s-codec'),
};
const congestionFields = { estimate: el('c-estimate'), rung: el('c-rung'), loss: el('c-loss'), rtt: el('c-rtt'), send: el('c-send') };
const bitrates: number[] = [];
let statsTimer: ReturnType<typeof setInterval> | null = null;

function setField(node: HTMLElement, text: string, level: '' | 'good' | 'warn' | 'bad' = ''): void {
  node.textContent = text;
  node.className = level;
}

function formatBitrate(kbps: number): string {
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

function drawSpark(): void {
  const line = document.querySelector<SVGPolylineElement>('#spark polyline');
  if (!line) return;
  // A line needs two points: until then the chart and its label stay hidden.
  for (const id of ['spark', 'spark-label']) document.getElementById(id)?.toggleAttribute('hidden', bitrates.length < 2);
  const max = Math.max(1, ...bitrates);
  const step = 120 / 59;
  const offset = 60 - bitrates.length;
  line.setAttribute('points', bitrates.map((v, i) => `${((offset + i) * step).toFixed(1)},${(27 - (v / max) * 25).toFixed(1)}`).join(' '));
}

async function refreshStats(): Promise<void> {
  let s: MediaStatsSummary | null = null;
  try {
    s = await client.getMediaStats();
  } catch {
    s = null;
  }
  client.ping().catch(() => {});
  void refreshCongestion(client, congestionFields);
  const ping = client.getMetrics().lastLatency;
  if (!s) {
    for (const f of Object.values(statsFields)) setField(f, '–');
    if (ping !== null) setField(statsFields.rtt, `${ping.toFixed(0)} ms ping`);
    return;
  }
  setField(statsFields.res, s.width && s.height ? `${s.width} × ${s.height}` : '–');
  setField(statsFields.fps, s.fps === null ? '–' : `${s.fps.toFixed(0)} fps`, s.fps === null ? '' : s.fps >= 24 ? 'good' : s.fps >= 12 ? 'warn' : 'bad');
  setField(statsFields.bitrate, s.bitrateKbps === null ? '–' : formatBitrate(s.bitrateKbps));
  const rttParts = [s.rttMs === null ? null : `${s.rttMs.toFixed(0)} ms ICE`, ping === null ? null : `${ping.toFixed(0)} ms ping`].filter(Boolean);
  const worst = Math.max(s.rttMs ?? 0, ping ?? 0);
  setField(statsFields.rtt, rttParts.join(' · ') || '–', rttParts.length ? (worst < 80 ? 'good' : worst < 200 ? 'warn' : 'bad') : '');
  const loss = s.packetLossPercent;
  setField(statsFields.loss, loss === null ? '–' : `${loss.toFixed(1)} %`, loss === null ? '' : loss < 0.5 ? 'good' : loss < 3 ? 'warn' : 'bad');
  setField(statsFields.codec, [s.codec, s.audioCodec].filter(Boolean).join(' + ') || '–');
  if (s.bitrateKbps !== null) {
    bitrates.push(s.bitrateKbps);
    if (bitrates.length > 60) bitrates.shift();
    drawSpark();
  }
}

function setStats(on: boolean): void {
  statsPanel.hidden = !on;
  btnStats.setAttribute('aria-pressed', String(on));
  store.set(KEYS.stats, on ? 'on' : 'off');
  if (statsTimer) clearInterval(statsTimer);
  statsTimer = null;
  if (on) {
    void refreshStats();
    statsTimer = setInterval(() => void refreshStats(), 1000);
  }
}
btnStats.addEventListener('click', () => setStats(statsPanel.hidden));

// ------------------------------------------------------------------ files

attachFilePanel(
  client,
  {
    button: el<HTMLButtonElement>('btn-files'),
    panel: el('files'),
    picker: el<HTMLInputElement>('file-picker'),
    uploadButton: el<HTMLButtonElement>('btn-upload'),
    progress: el<HTMLProgressElement>('file-progress'),
    status: el('file-status'),
    list: el<HTMLUListElement>('file-list'),
    dropTarget: stage,
  },
  token,
);

attachCursor(client, video, el('remote-pointer'));
attachParticipants(
  client,
  { list: el<HTMLUListElement>('participants'), request: el('control-request'), share: el<HTMLButtonElement>('btn-share'), link: el<HTMLInputElement>('share-link') },
  token !== null,
);

attachFitScreen(client, stage, video, () => welcomed && viewOnly === null);

const clipboardSync = attachClipboard(
  client,
  {
    button: btnClipboard,
    panel: el('clipboard'),
    text: el<HTMLTextAreaElement>('clip-text'),
    image: el<HTMLImageElement>('clip-image'),
    copy: el<HTMLButtonElement>('btn-clip-copy'),
    send: el<HTMLButtonElement>('btn-clip-send'),
    status: el('clip-status'),
  },
  token,
  () => welcomed && viewOnly === null,
);

// ------------------------------------------------------------------ start

// The bar and the tab's icon come with the app: the page's first render, which the boot's negotiation waits
// behind on the main thread, is the curtain and the video alone (index.html).
el('bar').hidden = false;
const icon = Object.assign(document.createElement('link'), { rel: 'icon', type: 'image/svg+xml', href: 'favicon.svg' });
document.head.append(icon);
setKeyboard(keyboardOn);
if (early.unplayable) {
  const decodable = [...(decodableVideoCodecs() ?? [])].join(', ');
  showError(new StreamgateError('UNSUPPORTED_CODEC', `This browser cannot play ${early.unplayable} video; using ${codec} instead.`, 'client', `decodes ${decodable}`));
}
setStats(params.get('stats') === '1' || store.get(KEYS.stats) === 'on');
updateAudioButton();
render();
client.requestOffer().catch(() => {
  /* shown through the error and state events */
});
window.addEventListener('pagehide', () => {
  input.detach();
  void client.disconnect();
});
// Back from the back/forward cache the client is closed: start afresh.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});

declare global {
  interface Window {
    streamgate: {
      client: StreamgateClient;
      input: typeof input;
      setStats: (on: boolean) => void;
      setKeyboard: (on: boolean) => void;
      clipboard: typeof clipboardSync;
    };
  }
}
window.streamgate = { client, input, setStats, setKeyboard, clipboard: clipboardSync };
