/**
 * The page-open bench's probe: installed with Playwright's `addInitScript` before any of the viewer's
 * scripts, it times each step from navigation start to the first frame of the shipped viewer without
 * changing it — it wraps `WebSocket` (the signaling messages) and `RTCPeerConnection` (ICE, DTLS, track,
 * getStats) and watches the page's <video> with requestVideoFrameCallback. Every time is performance.now(),
 * i.e. ms after navigation start. Playwright sends the function's source text, so it must stay
 * self-contained: no imports, no module-level names.
 *
 * (test/helpers/firefox.ts `recordPeerConnections` notes only the first decoded frame; this one needs
 * every step on the way.)
 */

/** The steps timed, in the order they normally happen. */
export const OPEN_STEPS = [
  'responseStart',
  'appScriptLoaded',
  'domContentLoaded',
  'webSocketCreated',
  'webSocketOpen',
  'helloSent',
  'welcome',
  'requestOfferSent',
  'offer',
  'peerConnectionCreated',
  'answerSent',
  'iceConnected',
  'dtlsConnected',
  'track',
  'firstPacket',
  'firstFrameReceived',
  'firstFrameDecoded',
  'firstPictureReceived',
  'firstFramePresented',
] as const;

export type OpenStep = (typeof OPEN_STEPS)[number];

export interface OpenProbeResult {
  /** performance.timeOrigin: navigation start as epoch ms, to place the server's log lines on the page's axis. */
  timeOrigin: number;
  /**
   * appScriptLoaded: app.js fetched (resource timing). firstPictureReceived: the last packet of the first
   * frame shown (rVFC receiveTime) — frames before it may have arrived but not been decodable.
   */
  marks: Partial<Record<OpenStep, number>>;
  /** Size of the first presented frame. */
  width: number;
  height: number;
  /** Every signaling message, in and out, with its time. */
  messages: { dir: 'in' | 'out'; type: string; at: number }[];
  /** The browser's own local candidates, as counted when the first frame came. */
  localCandidates: number;
}

interface ProbeWindow {
  __pageOpen: { result: OpenProbeResult };
}

/** Page-side; see the file's comment. */
export function installOpenProbe(): void {
  const STATS_POLL_MS = 15;
  const result: OpenProbeResult = { timeOrigin: performance.timeOrigin, marks: {}, width: 0, height: 0, messages: [], localCandidates: 0 };
  const mark = (step: OpenStep, at = performance.now()): void => {
    result.marks[step] ??= at;
  };
  let finished = false;
  const maybeFinish = (): void => {
    // Both ends of the decode→present pair: getStats lags rVFC by up to a poll.
    if (finished || result.marks.firstFramePresented === undefined || result.marks.firstFrameDecoded === undefined) return;
    finished = true;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    if (nav) {
      result.marks.responseStart = nav.responseStart;
      result.marks.domContentLoaded = nav.domContentLoadedEventStart;
    }
    const script = performance.getEntriesByType('resource').find((e) => /\/app\.js/.test(e.name)) as PerformanceResourceTiming | undefined;
    if (script) result.marks.appScriptLoaded = script.responseEnd;
    // The bench's binding (Playwright's exposeBinding): reporting through it, rather than the bench calling
    // page.evaluate, keeps Playwright's injected script from compiling on the page's main thread mid-open.
    (window as unknown as { __pageOpenDone?: (r: OpenProbeResult) => void }).__pageOpenDone?.(result);
  };
  (window as unknown as ProbeWindow).__pageOpen = { result };

  const typeOf = (data: unknown): string => {
    if (typeof data !== 'string') return '(binary)';
    try {
      const parsed = JSON.parse(data) as { type?: unknown };
      return typeof parsed.type === 'string' ? parsed.type : '(untyped)';
    } catch {
      return '(not JSON)';
    }
  };
  const NativeWebSocket = window.WebSocket;
  class ProbedWebSocket extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      mark('webSocketCreated');
      super(url, protocols);
      this.addEventListener('open', () => mark('webSocketOpen'));
      this.addEventListener('message', (event: MessageEvent) => {
        const at = performance.now();
        const type = typeOf(event.data);
        result.messages.push({ dir: 'in', type, at });
        if (type === 'welcome') mark('welcome', at);
        if (type === 'offer') mark('offer', at);
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      const at = performance.now();
      const type = typeOf(data);
      result.messages.push({ dir: 'out', type, at });
      if (type === 'hello') mark('helloSent', at);
      if (type === 'request-offer') mark('requestOfferSent', at);
      if (type === 'answer') mark('answerSent', at);
      super.send(data);
    }
  }
  window.WebSocket = ProbedWebSocket;

  const NativePeerConnection = window.RTCPeerConnection;
  class ProbedPeerConnection extends NativePeerConnection {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      mark('peerConnectionCreated');
      this.addEventListener('iceconnectionstatechange', () => {
        if (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') mark('iceConnected');
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState !== 'connected' || result.marks.dtlsConnected !== undefined) return;
        mark('dtlsConnected');
        void this.watchInbound();
      });
      this.addEventListener('track', () => mark('track'));
      this.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
        if (event.candidate?.candidate) result.localCandidates++;
      });
    }

    /**
     * First packet, frame received and frame decoded with a size, from `inbound-rtp` video. Polled from DTLS on:
     * no media comes before it, and getStats every 15 ms during the handshake would take the page's and
     * WebRTC's threads from the open being timed.
     */
    private async watchInbound(): Promise<void> {
      const deadline = performance.now() + 60_000;
      while (result.marks.firstFrameDecoded === undefined && this.connectionState !== 'closed' && performance.now() < deadline) {
        const report = await this.getStats();
        // The stats are as of when they were gathered; the promise resolves a little later.
        const at = performance.now();
        report.forEach((entry: Record<string, unknown>) => {
          if (entry.type !== 'inbound-rtp' || entry.kind !== 'video') return;
          if (((entry.packetsReceived as number) ?? 0) > 0) mark('firstPacket', at);
          if (((entry.framesReceived as number) ?? 0) > 0) mark('firstFrameReceived', at);
          if (((entry.framesDecoded as number) ?? 0) > 0 && ((entry.frameWidth as number) ?? 0) > 0) mark('firstFrameDecoded', at);
        });
        maybeFinish();
        await new Promise((resolve) => setTimeout(resolve, STATS_POLL_MS));
      }
    }
  }
  window.RTCPeerConnection = ProbedPeerConnection;

  const watchVideo = (): void => {
    const video = document.querySelector('video');
    if (!video) return;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      if (meta.width > 0 && meta.height > 0) {
        mark('firstFramePresented', meta.presentationTime);
        if (meta.receiveTime !== undefined) mark('firstPictureReceived', meta.receiveTime);
        result.width = meta.width;
        result.height = meta.height;
        maybeFinish();
        return;
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  document.addEventListener('DOMContentLoaded', watchVideo, { once: true });
}
