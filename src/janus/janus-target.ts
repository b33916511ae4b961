import { EventEmitter } from 'node:events';
import { logger, type Logger } from '../log.js';
import type { StreamPipeline } from '../media/stream-pipeline.js';
import type { VideoCodec } from '../media/types.js';
import type { ViewerHost } from '../media/werift-viewer.js';
import { JanusAdmin } from './janus-admin.js';
import type { JanusError } from './janus-error.js';
import { JanusGateway } from './janus-gateway.js';
import { KeyframeRequests } from './keyframe-requests.js';
import { RtpForwarder } from './rtp-forwarder.js';
import type { CreatedMountpoint, StreamingHandle } from './streaming-handle.js';

/** The encoders a Janus is fed from: the local media service's shared pipelines. */
export type EncoderHost = Pick<ViewerHost, 'codecs' | 'audio' | 'videoPipeline' | 'audioPipeline'>;

export interface JanusTargetOptions {
  /** The HTTP API, e.g. `http://127.0.0.1:8088/janus`; RTP goes to the same host. */
  url: string;
  apiSecret?: string;
  /** The streaming plugin's `admin_key`. */
  adminKey?: string;
  /** The admin API (for per-viewer figures), with its `admin_secret`. */
  admin?: { url: string; secret: string };
}

/**
 * Our fixed mountpoint ids, one per video codec (the source's audio rides on each): fixed so that a restarted
 * Janus gets the same ones back and a leftover of an earlier run of ours is found and replaced.
 */
const MOUNTPOINT_IDS: Record<VideoCodec, number> = { H264: 5_347_001, VP8: 5_347_002 };

/** One mountpoint and what feeds it while it has viewers. */
interface Feed {
  codec: VideoCodec;
  mountpoint: CreatedMountpoint;
  video: RtpForwarder;
  audio: RtpForwarder | undefined;
  keyframes: KeyframeRequests;
  viewers: number;
  /** Subscribed to the encoders while there are viewers; resolves to the function that unsubscribes. */
  attaching: Promise<() => void> | undefined;
  pipeline: StreamPipeline | undefined;
}

export interface MountpointFigures {
  id: number;
  codec: VideoCodec;
  /** Our viewers of it. */
  viewers: number;
  forwardedPackets: number;
  /** Keyframe requests Janus relayed from its viewers. */
  keyframeRequests: number;
}

interface TargetEvents {
  down: [JanusError];
  up: [];
}

/**
 * One Janus serving our viewers: a mountpoint per video codec, fed with a copy of the encoders' RTP while
 * the mountpoint has viewers (so the encoders' start-on-first-viewer and linger logic stay as they are), and
 * the keyframe requests Janus relays from its viewers passed on to the encoder.
 */
export class JanusTarget extends EventEmitter<TargetEvents> {
  private readonly feeds = new Map<VideoCodec, Feed>();
  /** Viewers served here now. */
  viewers = 0;
  readonly admin: JanusAdmin | undefined;
  private readonly log: Logger;

  private constructor(
    readonly options: JanusTargetOptions,
    private readonly gateway: JanusGateway,
    private readonly encoders: EncoderHost,
  ) {
    super();
    // Every viewer served here listens for down/up: hundreds of listeners are the point, not a leak.
    this.setMaxListeners(0);
    this.log = logger('janus.target', { janus: options.url });
    this.admin = options.admin ? new JanusAdmin({ url: options.admin.url, adminSecret: options.admin.secret }) : undefined;
    gateway.on('down', (err) => {
      this.log.warn({ err }, 'Janus went away');
      this.emit('down', err);
    });
    gateway.on('up', () => {
      this.log.info('Janus is back, mountpoints re-created');
      this.emit('up');
    });
  }

  /** Connects and creates our mountpoints; rejects when Janus does not answer or refuses them. */
  static async start(options: JanusTargetOptions, encoders: EncoderHost): Promise<JanusTarget> {
    const gateway = await JanusGateway.start({
      session: { url: options.url, ...(options.apiSecret ? { apiSecret: options.apiSecret } : {}) },
      ...(options.adminKey ? { adminKey: options.adminKey } : {}),
    });
    const target = new JanusTarget(options, gateway, encoders);
    try {
      for (const codec of encoders.codecs) await target.provision(codec);
    } catch (err) {
      await target.stop();
      throw err;
    }
    return target;
  }

  get url(): string {
    return this.options.url;
  }

  get isUp(): boolean {
    return this.gateway.isUp;
  }

  get codecs(): readonly VideoCodec[] {
    return this.encoders.codecs;
  }

  get audio(): boolean {
    return this.encoders.audio;
  }

  get sessionId(): number {
    return this.gateway.sessionId;
  }

  mountpointId(codec: VideoCodec): number {
    return MOUNTPOINT_IDS[codec];
  }

  viewerHandle(): Promise<StreamingHandle> {
    return this.gateway.viewerHandle();
  }

  /** A viewer of `codec`'s mountpoint arrives: resolves once the encoders' RTP flows to it. */
  async join(codec: VideoCodec): Promise<void> {
    const feed = this.feed(codec);
    feed.viewers++;
    const attaching = (feed.attaching ??= this.attach(feed));
    try {
      await attaching;
    } catch (err) {
      feed.viewers--;
      if (feed.attaching === attaching) feed.attaching = undefined;
      throw err;
    }
  }

  /** A viewer of `codec`'s mountpoint left; after the last one the encoders are no longer fed to it. */
  leave(codec: VideoCodec): void {
    const feed = this.feed(codec);
    feed.viewers--;
    if (feed.viewers > 0 || !feed.attaching) return;
    const attaching = feed.attaching;
    feed.attaching = undefined;
    feed.pipeline = undefined;
    attaching.then((detach) => detach(), () => undefined);
  }

  /** A Janus viewer's PeerConnection came up: Janus 1.1.2 does not ask the source for a picture itself. */
  requestKeyframe(codec: VideoCodec): void {
    this.feeds.get(codec)?.pipeline?.requestKeyframe();
  }

  /** Our figures for `stats` and `/metrics`, per mountpoint. */
  stats(): { url: string; up: boolean; viewers: number; mountpoints: MountpointFigures[] } {
    const mountpoints = [...this.feeds.values()].map((feed) => ({
      id: feed.mountpoint.id,
      codec: feed.codec,
      viewers: feed.viewers,
      forwardedPackets: feed.video.packets + (feed.audio?.packets ?? 0),
      keyframeRequests: feed.keyframes.requests,
    }));
    return { url: this.url, up: this.isUp, viewers: this.viewers, mountpoints };
  }

  /** Janus's own count of each mountpoint's viewers (its `info`); null where it does not answer. */
  async janusViewers(): Promise<{ codec: VideoCodec; viewers: number | null }[]> {
    return Promise.all(
      [...this.feeds.values()].map(async (feed) => ({
        codec: feed.codec,
        viewers: this.isUp ? await this.gateway.info(feed.mountpoint.id).then((info) => info.viewers ?? null, () => null) : null,
      })),
    );
  }

  /** Stops forwarding before the mountpoints go: Janus hands freed ports to the next mountpoint it creates. */
  async stop(): Promise<void> {
    for (const feed of this.feeds.values()) {
      feed.viewers = 0;
      feed.attaching?.then((detach) => detach(), () => undefined);
      feed.attaching = undefined;
      feed.video.close();
      feed.audio?.close();
      feed.keyframes.close();
    }
    this.feeds.clear();
    await this.gateway.stop();
  }

  private feed(codec: VideoCodec): Feed {
    const feed = this.feeds.get(codec);
    if (!feed) throw new Error(`Janus ${this.url} has no mountpoint for ${codec}`);
    return feed;
  }

  private async provision(codec: VideoCodec): Promise<void> {
    const mountpoint = await this.gateway.provision({
      id: MOUNTPOINT_IDS[codec],
      description: `streamgate ${codec}`,
      video: { codec, port: 0, rtcpPort: 0 },
      ...(this.encoders.audio ? { audio: { port: 0 } } : {}),
    });
    const host = new URL(this.url).hostname;
    if (!mountpoint.video?.rtcpPort) throw new Error(`Janus ${this.url} created mountpoint ${mountpoint.id} without the video ports asked for`);
    const feed: Feed = {
      codec,
      mountpoint,
      video: new RtpForwarder(mountpoint.video.port, host),
      audio: mountpoint.audio ? new RtpForwarder(mountpoint.audio.port, host) : undefined,
      keyframes: await KeyframeRequests.open(mountpoint.video.rtcpPort, host),
      viewers: 0,
      attaching: undefined,
      pipeline: undefined,
    };
    feed.keyframes.on('keyframe', () => feed.pipeline?.requestKeyframe());
    this.feeds.set(codec, feed);
  }

  private async attach(feed: Feed): Promise<() => void> {
    const quiet = { down: () => undefined, up: () => undefined };
    const video = await this.encoders.videoPipeline(feed.codec);
    const detachVideo = await video.attach({ ...quiet, rtp: (packet) => feed.video.forward(packet) });
    let detachAudio = (): void => undefined;
    if (feed.audio) {
      const forwarder = feed.audio;
      try {
        detachAudio = await (await this.encoders.audioPipeline()).attach({ ...quiet, rtp: (packet) => forwarder.forward(packet) });
      } catch (err) {
        detachVideo();
        throw err;
      }
    }
    feed.pipeline = video;
    video.requestKeyframe();
    return () => {
      detachVideo();
      detachAudio();
    };
  }
}
