/**
 * Real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) for media tests:
 * a page that answers a server's offer with a plain RTCPeerConnection, plays it in a <video>, and
 * reports what the browser itself measured (getStats `inbound-rtp`) and displayed (pixels).
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export function launchChromium(): Promise<Browser> {
  // headless: true makes playwright pass --headless itself.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export interface BrowserCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** The fields of an `inbound-rtp` stats entry the tests look at. */
export interface InboundRtp {
  kind: 'video' | 'audio';
  packetsReceived: number;
  bytesReceived: number;
  framesDecoded?: number;
  keyFramesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
  codec?: string;
}

interface PageWindow {
  pc: RTCPeerConnection;
  firstFrameAt: number | null;
  candidates: BrowserCandidate[];
  streams: number;
  channels: Record<string, RTCDataChannel>;
  analyser?: AnalyserNode;
}

/** The page's side of one WebRTC session: everything runs inside Chromium, driven through evaluate(). */
export class BrowserPeer {
  private constructor(readonly page: Page) {}

  static async open(browser: Browser): Promise<BrowserPeer> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.setContent('<!doctype html><body style="margin:0;background:#000"><video id="v" autoplay playsinline muted></video></body>');
    await page.evaluate(() => {
      const w = window as unknown as PageWindow;
      w.candidates = [];
      w.streams = 0;
      w.channels = {};
      w.firstFrameAt = null;
      w.pc = new RTCPeerConnection();
      w.pc.ondatachannel = (event) => {
        w.channels[event.channel.label] = event.channel;
      };
      w.pc.onicecandidate = (event) => {
        if (event.candidate) w.candidates.push(event.candidate.toJSON() as BrowserCandidate);
      };
      // As the seed's browser client does: it needs the offer's msid to get a stream here.
      w.pc.ontrack = (event) => {
        const stream = event.streams[0];
        if (!stream) return;
        w.streams = event.streams.length;
        const video = document.getElementById('v') as HTMLVideoElement;
        video.srcObject = stream;
        video.requestVideoFrameCallback(() => {
          w.firstFrameAt ??= Date.now();
        });
      };
    });
    return new BrowserPeer(page);
  }

  /** Applies the offer and returns the answer SDP (candidates follow through takeCandidates()). */
  answer(offerSdp: string): Promise<string> {
    return this.page.evaluate(async (sdp) => {
      const w = window as unknown as PageWindow;
      await w.pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await w.pc.createAnswer();
      await w.pc.setLocalDescription(answer);
      return w.pc.localDescription!.sdp;
    }, offerSdp);
  }

  /** Local candidates gathered since the last call. */
  takeCandidates(): Promise<BrowserCandidate[]> {
    return this.page.evaluate(() => {
      const w = window as unknown as PageWindow;
      return w.candidates.splice(0);
    });
  }

  addCandidate(candidate: BrowserCandidate): Promise<void> {
    return this.page.evaluate(async (c) => {
      const w = window as unknown as PageWindow;
      await w.pc.addIceCandidate(c.candidate ? c : null);
    }, candidate);
  }

  /** Sends text on the data channel the server opened with this label, once it is open. */
  sendOnChannel(label: string, text: string): Promise<void> {
    return this.page.evaluate(
      async ([name, message]) => {
        const w = window as unknown as PageWindow;
        const deadline = Date.now() + 10_000;
        while (w.channels[name]?.readyState !== 'open') {
          if (Date.now() > deadline) throw new Error(`data channel ${name} did not open`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        w.channels[name]!.send(message);
      },
      [label, text] as const,
    );
  }

  /** Wall-clock time (Date.now(), ms) the <video> presented its first frame; null before that. */
  firstFrameAt(): Promise<number | null> {
    return this.page.evaluate(() => (window as unknown as PageWindow).firstFrameAt);
  }

  connectionState(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as PageWindow).pc.connectionState);
  }

  /** How many streams the last `track` event carried (0 = the offer had no msid). */
  streamCount(): Promise<number> {
    return this.page.evaluate(() => (window as unknown as PageWindow).streams);
  }

  inboundRtp(): Promise<InboundRtp[]> {
    return this.page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      const report = await w.pc.getStats();
      const codecs = new Map<string, string>();
      report.forEach((entry: { type: string; id: string; mimeType?: string }) => {
        if (entry.type === 'codec' && entry.mimeType) codecs.set(entry.id, entry.mimeType);
      });
      const inbound: InboundRtp[] = [];
      report.forEach((entry: Record<string, unknown>) => {
        if (entry.type !== 'inbound-rtp') return;
        inbound.push({
          kind: entry.kind as 'video' | 'audio',
          packetsReceived: (entry.packetsReceived as number) ?? 0,
          bytesReceived: (entry.bytesReceived as number) ?? 0,
          framesDecoded: entry.framesDecoded as number | undefined,
          keyFramesDecoded: entry.keyFramesDecoded as number | undefined,
          frameWidth: entry.frameWidth as number | undefined,
          frameHeight: entry.frameHeight as number | undefined,
          framesPerSecond: entry.framesPerSecond as number | undefined,
          codec: codecs.get(entry.codecId as string),
        });
      });
      return inbound;
    });
  }

  /** Polls inbound-rtp until `done` holds for it; returns the last sample (the caller asserts on it). */
  async waitForInbound(
    done: (inbound: InboundRtp[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<InboundRtp[]> {
    const deadline = Date.now() + timeoutMs;
    let inbound = await this.inboundRtp();
    while (!done(inbound) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      inbound = await this.inboundRtp();
    }
    return inbound;
  }

  /** RGB of the displayed video at points given as fractions of its width and height (see videoPixels). */
  videoPixels(points: readonly (readonly [number, number])[]): Promise<[number, number, number][]> {
    return videoPixels(this.page, 'v', points);
  }

  /**
   * RMS (0 … 1) of the last ~46 ms of the received audio, measured with Web Audio. Not the stats'
   * audioLevel: Chromium reports 0 there for a muted element however loud the track is.
   */
  audioRms(): Promise<number> {
    return this.page.evaluate(() => {
      const w = window as unknown as PageWindow;
      if (!w.analyser) {
        const track = w.pc.getReceivers().find((r) => r.track.kind === 'audio')?.track;
        if (!track) return 0;
        const context = new AudioContext();
        w.analyser = context.createAnalyser();
        w.analyser.fftSize = 2048;
        context.createMediaStreamSource(new MediaStream([track])).connect(w.analyser);
      }
      const samples = new Float32Array(w.analyser.fftSize);
      w.analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      return Math.sqrt(sum / samples.length);
    });
  }

  async close(): Promise<void> {
    await this.page.evaluate(() => (window as unknown as PageWindow).pc.close()).catch(() => undefined);
    await this.page.close();
  }
}

/**
 * RGB of the `<video id=videoId>` in `page` at points given as fractions of its width and height, read by
 * drawing the current frame onto a canvas: what the viewer sees, not what was sent.
 */
export function videoPixels(page: Page, videoId: string, points: readonly (readonly [number, number])[]): Promise<[number, number, number][]> {
  return page.evaluate(
    ([id, fractions]) => {
      const video = document.getElementById(id) as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(video, 0, 0);
      return fractions.map(([fx, fy]) => {
        const data = context.getImageData(Math.floor(fx * canvas.width), Math.floor(fy * canvas.height), 1, 1).data;
        return [data[0]!, data[1]!, data[2]!] as [number, number, number];
      });
    },
    [videoId, points] as const,
  );
}
