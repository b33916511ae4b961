/**
 * The benchmark's side inside headless Chromium, bundled with the client SDK by esbuild (lib/browser.ts)
 * and exposed as `window.agent`. It uses the SDK as an application would (StreamgateClient with the
 * browser's own WebSocket and RTCPeerConnection, a <video> it plays into) and reads what the browser
 * displays with requestVideoFrameCallback. Times are returned as wall-clock ms (Date.now() scale) so
 * they compare with the painter's and the server's clocks on the same machine.
 */
import { StreamgateClient } from '../../src/client/index.js';
import { CLOCK, TARGET, clockDelta, readClock, targetColour } from '../lib/pattern.js';
import { wall } from './wall-clock.js';

/** One rVFC frame as the bench records it (wall-clock ms). */
export interface FrameSample {
  /** The painted clock the frame shows (low 32 bits), or null when it could not be read. */
  painted: number | null;
  /** When the frame was handed to the compositor / expected on screen / its last packet arrived. */
  presented: number;
  expectedDisplay: number;
  received: number | null;
  /** Callback time. */
  callback: number;
  presentedFrames: number;
  processingMs: number | null;
  /** Target colour index (0 red, 1 blue) or null. */
  target: 0 | 1 | null;
}

export interface JoinTiming {
  codec: string;
  /** ms after request-offer was sent. */
  offer: number;
  answer: number;
  connected: number | null;
  track: number | null;
  /** First frame presented (rVFC presentationTime). */
  firstFrame: number;
  /** The first frame's last packet received (rVFC receiveTime), when the browser reports it. */
  firstFrameReceived: number | null;
  width: number;
  height: number;
}

declare global {
  interface Window {
    agent: Agent;
  }
}

class Agent {
  client: StreamgateClient | null = null;
  video: HTMLVideoElement | null = null;
  private frames: FrameSample[] = [];
  private recording = false;
  private canvas: HTMLCanvasElement | null = null;
  private ctx: CanvasRenderingContext2D | null = null;
  private rawWs: WebSocket | null = null;
  private targetWaiter: { colour: 0 | 1; after: number; resolve: (f: FrameSample) => void } | null = null;
  private url = '';

  private newVideo(): HTMLVideoElement {
    this.video?.remove();
    const v = document.createElement('video');
    v.autoplay = true;
    v.muted = true;
    v.playsInline = true;
    v.style.cssText = 'display:block;width:1280px;height:720px;background:#000';
    document.body.appendChild(v);
    this.video = v;
    return v;
  }

  /** A fresh client (and <video>) connected and welcomed. */
  async connect(url: string, peerId = 'bench'): Promise<void> {
    this.url = url;
    await this.leave();
    const video = this.newVideo();
    this.client = new StreamgateClient({ url, peerId, video, autoReconnect: false, requestTimeoutMs: 20_000, logger: null });
    await this.client.connect();
  }

  /**
   * Sends request-offer and resolves when the first frame is presented: time to first frame and its
   * parts, in ms after request-offer left.
   */
  async join(codec: string, audio = true, timeoutMs = 15_000): Promise<JoinTiming> {
    const c = this.client!;
    const video = this.video!;
    const marks: Partial<Record<'offer' | 'connected' | 'track', number>> = {};
    const t0 = performance.now();
    c.once('offer', () => (marks.offer ??= performance.now() - t0));
    c.once('track', () => (marks.track ??= performance.now() - t0));
    const onState = (s: string): void => {
      if (s === 'connected') marks.connected ??= performance.now() - t0;
    };
    c.on('peer-state', onState);
    const first = new Promise<VideoFrameCallbackMetadata>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
      video.requestVideoFrameCallback((_now, meta) => {
        clearTimeout(timer);
        resolve(meta);
      });
    });
    const answered = c.requestOffer({ video: true, audio }, [codec]).then(() => performance.now() - t0);
    const [meta, answer] = await Promise.all([first, answered]);
    c.off('peer-state', onState);
    return {
      codec,
      offer: marks.offer ?? NaN,
      answer,
      connected: marks.connected ?? null,
      track: marks.track ?? null,
      firstFrame: meta.presentationTime - t0,
      firstFrameReceived: meta.receiveTime !== undefined ? meta.receiveTime - t0 : null,
      width: meta.width,
      height: meta.height,
    };
  }

  /** Waits until frames are presented (after a join). */
  async playing(timeoutMs = 15_000): Promise<void> {
    const video = this.video!;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame')), timeoutMs);
      video.requestVideoFrameCallback(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async leave(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.recording = false;
    if (c) await c.disconnect();
  }

  /** Starts recording every presented frame: the clock it shows and the target's colour. */
  startFrames(): void {
    const video = this.video!;
    this.frames = [];
    this.recording = true;
    const width = CLOCK.bits * CLOCK.cell;
    const height = TARGET.y + TARGET.height;
    this.canvas = document.createElement('canvas');
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    const onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
      if (!this.recording) return;
      const ctx = this.ctx!;
      ctx.drawImage(video, CLOCK.x, CLOCK.y, width, height, 0, 0, width, height);
      const clock = ctx.getImageData(0, 0, width, 2 * CLOCK.cell);
      const painted = readClock(clock.data, width);
      // Away from the click point: the captured picture includes the pointer (show-pointer=true).
      const tx = TARGET.x - CLOCK.x + 24;
      const ty = TARGET.y - CLOCK.y + 24;
      const px = ctx.getImageData(tx - 4, ty - 4, 8, 8).data;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = 0; i < px.length; i += 4) {
        r += px[i]!;
        g += px[i + 1]!;
        b += px[i + 2]!;
      }
      const n = px.length / 4;
      const sample: FrameSample = {
        painted,
        presented: wall(meta.presentationTime),
        expectedDisplay: wall(meta.expectedDisplayTime),
        received: meta.receiveTime !== undefined ? wall(meta.receiveTime) : null,
        callback: wall(now),
        presentedFrames: meta.presentedFrames,
        processingMs: meta.processingDuration !== undefined ? meta.processingDuration * 1000 : null,
        target: targetColour(r / n, g / n, b / n),
      };
      this.frames.push(sample);
      const w = this.targetWaiter;
      if (w && sample.target === w.colour && sample.callback >= w.after) {
        this.targetWaiter = null;
        w.resolve(sample);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** Stops recording; returns the frames seen (and drops them). */
  stopFrames(): FrameSample[] {
    this.recording = false;
    return this.frames.splice(0);
  }

  /** Frames recorded so far (kept). */
  framesSince(index: number): FrameSample[] {
    return this.frames.slice(index);
  }

  get frameCount(): number {
    return this.frames.length;
  }

  /** The target's colour in the latest frame. */
  currentTarget(): 0 | 1 | null {
    return this.frames.at(-1)?.target ?? null;
  }

  /** Opens a plain WebSocket that says hello (the "WebSocket path" for input), resolving on welcome. */
  async openRawSocket(): Promise<void> {
    const ws = new WebSocket(this.url);
    this.rawWs = ws;
    await new Promise<void>((resolve, reject) => {
      ws.onerror = () => reject(new Error('raw websocket failed'));
      ws.onmessage = (ev) => {
        const m = JSON.parse(String(ev.data)) as { type: string };
        if (m.type === 'welcome') resolve();
      };
      ws.onopen = () =>
        ws.send(JSON.stringify({ type: 'hello', peer_id: 'bench-ws', message_id: 'h1', timestamp: Date.now(), data: { capabilities: ['press-release'] } }));
    });
  }

  /**
   * Clicks the target centre through the SDK (data channel when open) or the raw WebSocket. Returns
   * the wall time the message was handed to the browser.
   */
  click(via: 'sdk' | 'ws'): number {
    const x = TARGET.x + TARGET.width / 2;
    const y = TARGET.y + TARGET.height / 2;
    const at = wall(performance.now());
    if (via === 'sdk') this.client!.mouseClick(x, y, 'left', 'click');
    else {
      this.rawWs!.send(
        JSON.stringify({ type: 'mouse-click', peer_id: 'bench-ws', message_id: `c${at}`, timestamp: Date.now(), data: { x, y, button: 'left', action: 'click' } }),
      );
    }
    return at;
  }

  /**
   * Clicks the target and waits for the first presented frame showing its other colour.
   * Returns when the click left and that frame (wall ms).
   */
  async clickAndWait(via: 'sdk' | 'ws', timeoutMs = 3000): Promise<{ sent: number; frame: FrameSample } | null> {
    const current = this.currentTarget();
    if (current === null) return null;
    const colour = (1 - current) as 0 | 1;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seen = new Promise<FrameSample | null>((resolve) => {
      this.targetWaiter = { colour, after: wall(performance.now()), resolve };
      timer = setTimeout(() => {
        this.targetWaiter = null;
        resolve(null);
      }, timeoutMs);
    });
    const sent = this.click(via);
    const frame = await seen;
    clearTimeout(timer);
    return frame ? { sent, frame } : null;
  }

  /**
   * Sends `total` mouse moves at `rate` per second through the SDK, catching up on late timer ticks
   * (browsers clamp timers to ~4 ms). Move i goes to (i mod w, 10 + floor(i / w)): every position is
   * unique, so an observer can tell which move it saw. Returns the wall time each move was sent.
   */
  async moveStream(total: number, rate: number, width: number): Promise<number[]> {
    const sent: number[] = [];
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
        while (sent.length < due) {
          const i = sent.length;
          sent.push(wall(performance.now()));
          this.client!.mouseMove(i % width, 10 + Math.floor(i / width));
        }
        if (sent.length >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    return sent;
  }

  usingDataChannel(): boolean {
    return this.client?.usingDataChannel ?? false;
  }

  async waitForDataChannel(timeoutMs = 10_000): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (!this.usingDataChannel() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.usingDataChannel();
  }

  /** For the page's own sanity: `now − painted` of the latest readable frame. */
  latestDelta(): number | null {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.painted !== null) return clockDelta(f.presented, f.painted);
    }
    return null;
  }

  async inboundVideo(): Promise<Record<string, unknown> | null> {
    const pc = this.client?.peerConnection;
    if (!pc) return null;
    const report = await pc.getStats();
    let found: Record<string, unknown> | null = null;
    report.forEach((e: Record<string, unknown>) => {
      if (e.type === 'inbound-rtp' && e.kind === 'video') found = { ...e };
    });
    return found;
  }
}

window.agent = new Agent();
