import { logger } from '../log.js';
import { probeCapabilities, X11_CAPTURE, type Capabilities } from './capabilities.js';
import type { StreamSpec } from './pipeline-description.js';
import { StreamPipeline, type PipelineOptions, type PipelineStats } from './stream-pipeline.js';
import { MediaError, type MediaService, type MediaSettings, type SourceSpec, type VideoCodec } from './types.js';
import { WeriftViewer, type ViewerHost } from './werift-viewer.js';

const log = logger('media.service');

const DEFAULT_OPTIONS: PipelineOptions = { lingerMs: 5000, startTimeoutMs: 10_000, keyframeIntervalMs: 300 };

/**
 * The media layer: GStreamer encoders in worker processes (one per source and codec, plus one for the
 * source's audio), shared by every viewer, each viewer a werift peer connection.
 */
export class GstreamerMediaService implements MediaService, ViewerHost {
  /** By slot (a video codec, or audio): the source can move, the slot's encoder follows it. */
  private readonly pipelines = new Map<VideoCodec | 'audio', Promise<StreamPipeline>>();
  private readonly started: StreamPipeline[] = [];
  private readonly viewers = new Set<WeriftViewer>();
  private stopping: Promise<void> | undefined;
  private readonly options: PipelineOptions;

  private constructor(
    private current: MediaSettings,
    private readonly capabilities: Capabilities,
    options: Partial<PipelineOptions>,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
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

  /** The captured screen changed size: every video encoder restarts to capture it whole at its new size. */
  sourceResized(): void {
    for (const pipeline of this.started) if (pipeline.stats().kind === 'video') pipeline.restart();
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
        `capturing X display ${settings.source.display} needs the GStreamer element ${element}, which is not installed (Debian package ${debianPackage})`,
      );
    }
    return new GstreamerMediaService(settings, capabilities, options);
  }

  get codecs(): readonly VideoCodec[] {
    return this.capabilities.codecs;
  }

  get audio(): boolean {
    return this.capabilities.audio;
  }

  createViewer(sessionId: string): WeriftViewer {
    const viewer = new WeriftViewer(sessionId, this);
    this.viewers.add(viewer);
    return viewer;
  }

  released(viewer: WeriftViewer): void {
    this.viewers.delete(viewer);
  }

  videoPipeline(codec: VideoCodec): Promise<StreamPipeline> {
    const { source, width, height, framerate, bitrate } = this.settings;
    return this.pipeline(codec, { kind: 'video', codec, source, width, height, framerate, bitrateKbps: bitrate });
  }

  audioPipeline(): Promise<StreamPipeline> {
    return this.pipeline('audio', { kind: 'audio', source: this.settings.source });
  }

  /** Sets every video encoder's bitrate at runtime (kbit/s). */
  setBitrate(kbps: number): void {
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
      for (const viewer of [...this.viewers]) viewer.close();
      const pipelines = await Promise.allSettled(this.pipelines.values());
      await Promise.all(
        pipelines.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])),
      );
    })();
    return this.stopping;
  }

  private pipeline(slot: VideoCodec | 'audio', spec: StreamSpec): Promise<StreamPipeline> {
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
