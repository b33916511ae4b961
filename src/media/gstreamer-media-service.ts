import { logger } from '../log.js';
import type { CongestionFigures } from './congestion/congestion-stats.js';
import type { RungName } from './congestion/ladder-policy.js';
import { EncoderRateControl, type RungMoves } from './encoder-rate-control.js';
import { probeCapabilities, X11_CAPTURE, type Capabilities } from './capabilities.js';
import type { StreamSpec } from './pipeline-description.js';
import { StreamPipeline, type PipelineOptions, type PipelineStats, type StreamSubscriber } from './stream-pipeline.js';
import { MediaError, type MediaService, type MediaSettings, type SourceSpec, type VideoCodec } from './types.js';
import { WeriftViewer, type ViewerHost } from './werift-viewer.js';
import { warmWerift } from './werift-warmup.js';
import { WhepViewer } from './whep-viewer.js';

const log = logger('media.service');

/** How often the encoders' bitrates are set from their viewers' estimates (docs/rate-control.md, "Wiring"). */
const RATE_TICK_MS = 250;

const DEFAULT_OPTIONS: PipelineOptions = { lingerMs: 5000, startTimeoutMs: 10_000, keyframeIntervalMs: 300 };

/**
 * The media layer: GStreamer encoders in worker processes (one per source and codec, plus one for the
 * source's audio), shared by every viewer, each viewer a werift peer connection.
 */
export class GstreamerMediaService implements MediaService, ViewerHost {
  /** By slot (a video codec and rung, or audio): the source can move, the slot's encoder follows it. */
  private readonly pipelines = new Map<string, Promise<StreamPipeline>>();
  private readonly started: StreamPipeline[] = [];
  private readonly viewers = new Set<WeriftViewer | WhepViewer>();
  private stopping: Promise<void> | undefined;
  private readonly options: PipelineOptions;
  private readonly rateControl: EncoderRateControl;
  private rateTimer: NodeJS.Timeout | undefined;

  private constructor(
    private current: MediaSettings,
    private readonly capabilities: Capabilities,
    options: Partial<PipelineOptions>,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.rateControl = new EncoderRateControl(
      () => this.current.bitrate,
      (codec, rung) => this.videoPipeline(codec, rung),
      current.rungEncoders !== false,
    );
  }

  get settings(): MediaSettings {
    return this.current;
  }

  /**
   * Captures another source from now on (the virtual desktop's X server came back under another display
   * number). Every encoder, started or starting, moves to it; viewers stay and see a restart.
   */
  setSource(source: SourceSpec): void {
    this.current = { ...this.current, source };
    // Those still opening retarget themselves when they open (see pipeline()).
    for (const pipeline of this.started) pipeline.retarget(source);
  }

  /**
   * The captured screen is now `size`: every video encoder hands over to a new worker capturing it whole,
   * without a gap in any viewer's video (StreamPipeline.handOver).
   */
  sourceResized(size: { width: number; height: number }): void {
    this.current = { ...this.current, ...size };
    for (const pipeline of this.started) pipeline.handOver(size);
  }

  /**
   * Probes the installed GStreamer for codecs, then serves `settings.source`. Rejects when the source is an
   * X display and nothing can capture it: every viewer would fail, so the server should not start that way.
   */
  static async create(settings: MediaSettings, options: Partial<PipelineOptions> = {}): Promise<GstreamerMediaService> {
    const capabilities = await probeCapabilities();
    log.info({ ...capabilities, source: settings.source }, 'media capabilities');
    if (settings.source.kind === 'x11' && !capabilities.x11) {
      const { element, debianPackage } = X11_CAPTURE;
      throw new Error(
        `capturing X display ${settings.source.display} needs the GStreamer element ${element}, which is not installed: install it with \`npm run setup\` or \`sudo apt-get install ${debianPackage}\``,
      );
    }
    if (capabilities.codecs.length === 0) {
      log.warn(
        'no video encoder: GStreamer or its plugins are not installed, and every viewer will be refused; install them with `npm run setup` or `sudo apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly`',
      );
    }
    // Not awaited: the start need not wait, and a viewer that comes sooner shares the certificate being made.
    warmWerift(settings.iceAddresses).catch((err: unknown) => log.warn({ err }, 'warming up werift failed'));
    return new GstreamerMediaService(settings, capabilities, options);
  }

  get codecs(): readonly VideoCodec[] {
    return this.capabilities.codecs;
  }

  get audio(): boolean {
    return this.capabilities.audio;
  }

  createViewer(sessionId: string): WeriftViewer {
    return this.track(new WeriftViewer(sessionId, this));
  }

  /** A WHEP viewer: counted, rate-controlled and stopped like every other. */
  createAnsweringViewer(sessionId: string): WhepViewer {
    return this.track(new WhepViewer(sessionId, this));
  }

  private track<V extends WeriftViewer | WhepViewer>(viewer: V): V {
    this.viewers.add(viewer);
    if (this.settings.adaptiveBitrate !== false && !this.rateTimer) {
      this.rateTimer = setInterval(() => this.tickRates(), RATE_TICK_MS);
      this.rateTimer.unref();
    }
    return viewer;
  }

  released(viewer: WeriftViewer | WhepViewer): void {
    this.viewers.delete(viewer);
    if (this.viewers.size === 0) {
      clearInterval(this.rateTimer);
      this.rateTimer = undefined;
    }
  }

  /** Viewers' moves between rungs since start, for metrics. */
  rungMoves(): RungMoves {
    return { ...this.rateControl.moves };
  }

  /** Every connected viewer's rate control figures, for metrics. */
  viewerRates(): CongestionFigures[] {
    return [...this.viewers].flatMap((viewer) => {
      const rate = viewer.videoRate;
      return rate ? [rate.control.figures()] : [];
    });
  }

  /**
   * Starts what a first viewer would otherwise wait for, the default codec's video encoder (the server's first,
   * which browsers that decode it are offered first) and the audio encoder, and keeps them running with nobody
   * watching: opening the page is then a warm start. Costs an encoder's CPU (x264 720p30: ~10 % of a core) all along.
   */
  keepWarm(): void {
    const warm: StreamSubscriber = { rtp: () => undefined, down: () => undefined, up: () => undefined, keepsWarm: true };
    const codec = this.codecs[0];
    const pipelines = [...(codec ? [this.videoPipeline(codec)] : []), ...(this.audio ? [this.audioPipeline()] : [])];
    for (const pipeline of pipelines) {
      pipeline
        .then((opened) => opened.attach(warm))
        .catch((err: unknown) => {
          if (!this.stopping) log.warn({ err }, 'an encoder kept warm did not start: the first viewer starts it');
        });
    }
  }

  /** The shared encoder of a codec and rung; each rung's worker runs only while it has viewers. */
  videoPipeline(codec: VideoCodec, rung: RungName = 'full'): Promise<StreamPipeline> {
    const { source, width, height, framerate, bitrate } = this.settings;
    return this.pipeline(`${codec}/${rung}`, { kind: 'video', codec, source, width, height, framerate, bitrateKbps: bitrate, rung });
  }

  audioPipeline(): Promise<StreamPipeline> {
    return this.pipeline('audio', { kind: 'audio', source: this.settings.source });
  }

  /** Sets every video encoder's bitrate at runtime (kbit/s); with adaptive bitrate, the ceiling it follows its viewers under. */
  setBitrate(kbps: number): void {
    this.current = { ...this.current, bitrate: kbps };
    for (const pipeline of this.started) pipeline.setBitrate(kbps);
  }

  pipelineStats(): Record<string, unknown> {
    return {
      source: this.settings.source.kind === 'x11' ? `x11 ${this.settings.source.display}` : 'test',
      codecs: this.codecs,
      audio: this.audio,
      viewers: this.viewers.size,
      pipelines: this.streamStats(),
    };
  }

  /** Every encoder started so far (idle ones included), typed for metrics. */
  streamStats(): PipelineStats[] {
    return this.started.map((pipeline) => pipeline.stats());
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.rateTimer);
      for (const viewer of [...this.viewers]) viewer.close();
      const pipelines = await Promise.allSettled(this.pipelines.values());
      await Promise.all(
        pipelines.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])),
      );
    })();
    return this.stopping;
  }

  private tickRates(): void {
    this.rateControl.tick(
      [...this.viewers].flatMap((viewer) => {
        const rate = viewer.videoRate;
        return rate ? [{ id: viewer.sessionId, viewer, ...rate }] : [];
      }),
    );
  }

  private pipeline(slot: string, spec: StreamSpec): Promise<StreamPipeline> {
    if (this.stopping) return Promise.reject(new MediaError('MEDIA_UNAVAILABLE', 'the media service has stopped'));
    let pipeline = this.pipelines.get(slot);
    if (!pipeline) {
      pipeline = StreamPipeline.open(spec, this.options);
      this.pipelines.set(slot, pipeline);
      pipeline.then(
        (opened) => {
          this.started.push(opened);
          // The source may have moved while this one was opening.
          opened.retarget(this.settings.source);
        },
        () => this.pipelines.delete(slot),
      );
    }
    return pipeline;
  }
}
