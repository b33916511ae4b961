/**
 * The lab's viewer inside Chromium, bundled with the client SDK (../browser.ts) and exposed as
 * `window.netlab`: it watches the stream through the SDK as an application would and records the
 * browser's own `inbound-rtp` video counters once a second, so a test can tell frames per second second
 * by second. (Chromium's freezeCount stays 0 on a stream that stops and never recovers: the decoded
 * frame count is what shows that.)
 */
import { StreamgateClient } from '../../../../src/client/index.js';

/** Cumulative `inbound-rtp` video counters at one moment (absent counters are 0). */
export interface VideoCounters {
  /** ms since watch() started. */
  atMs: number;
  framesDecoded: number;
  framesDropped: number;
  freezeCount: number;
  totalFreezesDuration: number;
  packetsReceived: number;
  packetsLost: number;
  nackCount: number;
  pliCount: number;
  firCount: number;
  bytesReceived: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  frameWidth: number;
  frameHeight: number;
}

export interface WatchOptions {
  codec: string;
  /** Force the browser to use only TURN relay candidates. */
  relayOnly?: boolean;
}

/** Candidate types of the pair ICE selected, and the server's end of it. */
export interface SelectedPair {
  local: string;
  remote: string;
  localProtocol: string;
  remoteAddress: string;
  remotePort: number;
}

/** A candidate of the server as the browser knows it (offered or trickled). */
export interface RemoteCandidate {
  type: string;
  address: string;
  port: number;
}

declare global {
  interface Window {
    netlab: Watcher;
  }
}

const COUNTERS = [
  'framesDecoded',
  'framesDropped',
  'freezeCount',
  'totalFreezesDuration',
  'packetsReceived',
  'packetsLost',
  'nackCount',
  'pliCount',
  'firCount',
  'bytesReceived',
  'jitterBufferDelay',
  'jitterBufferEmittedCount',
  'frameWidth',
  'frameHeight',
] as const;

class Watcher {
  private client: StreamgateClient | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private started = 0;
  /** Date.now() when watch() started: samples' atMs on the wall clock (for comparing with other clocks). */
  startedWallMs = 0;
  readonly samples: VideoCounters[] = [];

  /** Connects, asks for video, and records counters every second from now on. */
  async watch(url: string, options: WatchOptions): Promise<void> {
    const video = document.createElement('video');
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    document.body.appendChild(video);
    const rtcConfig: RTCConfiguration = options.relayOnly ? { iceTransportPolicy: 'relay' } : {};
    this.client = new StreamgateClient({ url, peerId: 'netlab', video, autoReconnect: false, requestTimeoutMs: 30_000, logger: null, rtcConfig });
    this.started = performance.now();
    this.startedWallMs = Date.now();
    this.timer = setInterval(() => void this.sample(), 1000);
    await this.client.connect();
    await this.client.requestOffer({ video: true, audio: false }, [options.codec]);
  }

  private async sample(): Promise<void> {
    const pc = this.client?.peerConnection;
    const atMs = performance.now() - this.started;
    const counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as unknown as VideoCounters;
    counters.atMs = atMs;
    if (pc) {
      (await pc.getStats()).forEach((entry: Record<string, unknown>) => {
        if (entry.type !== 'inbound-rtp' || entry.kind !== 'video') return;
        for (const name of COUNTERS) counters[name] = typeof entry[name] === 'number' ? entry[name] : 0;
      });
    }
    this.samples.push(counters);
  }

  /**
   * The server's `stats` message for this viewer (`webrtc.video`: its encoder, and with adaptive bitrate
   * the `congestion` figures: estimate, rung, …), as the SDK hands it to an application; null before a
   * peer connection.
   */
  async serverVideoStats(): Promise<Record<string, unknown> | null> {
    const webrtc = (await this.client?.requestStats(['webrtc']))?.webrtc;
    const video = webrtc?.video;
    return typeof video === 'object' && video !== null ? (video as Record<string, unknown>) : null;
  }

  async selectedPair(): Promise<SelectedPair | null> {
    const pc = this.client?.peerConnection;
    if (!pc) return null;
    const report = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((entry: Record<string, unknown>) => byId.set(entry.id as string, entry));
    for (const entry of byId.values()) {
      if (entry.type !== 'transport' || !entry.selectedCandidatePairId) continue;
      const pair = byId.get(entry.selectedCandidatePairId as string);
      const local = byId.get(pair?.localCandidateId as string);
      const remote = byId.get(pair?.remoteCandidateId as string);
      if (local && remote) {
        return {
          local: String(local.candidateType),
          remote: String(remote.candidateType),
          localProtocol: String(local.relayProtocol ?? local.protocol),
          remoteAddress: String(remote.address),
          remotePort: Number(remote.port),
        };
      }
    }
    return null;
  }

  sessionId(): string | null {
    return this.client?.session?.session_id ?? null;
  }

  /** The ICE servers the server's welcome gave (with --turn-secret: TURN REST credentials). */
  welcomeIceServers(): RTCIceServer[] {
    return (this.client?.sessionConfig?.ice_servers ?? []) as RTCIceServer[];
  }

  /**
   * Gathers with these ICE servers alone, relay only, on a fresh peer connection: the relay candidates it got
   * (none when the TURN server refused the credentials).
   */
  async relayCandidates(iceServers: RTCIceServer[]): Promise<string[]> {
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    const found: string[] = [];
    try {
      pc.createDataChannel('probe');
      const done = new Promise<void>((resolve) => {
        pc.onicecandidate = (e) => {
          if (e.candidate) found.push(e.candidate.candidate);
          else resolve();
        };
      });
      await pc.setLocalDescription(await pc.createOffer());
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      return found.filter((c) => / typ relay /.test(c));
    } finally {
      pc.close();
    }
  }

  /** The server's candidates the browser has: in the offer and trickled since. */
  async remoteCandidates(): Promise<RemoteCandidate[]> {
    const pc = this.client?.peerConnection;
    if (!pc) return [];
    const found: RemoteCandidate[] = [];
    (await pc.getStats()).forEach((entry: Record<string, unknown>) => {
      if (entry.type === 'remote-candidate') found.push({ type: String(entry.candidateType), address: String(entry.address), port: Number(entry.port) });
    });
    return found;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.client?.disconnect();
    this.client = null;
  }
}

window.netlab = new Watcher();
