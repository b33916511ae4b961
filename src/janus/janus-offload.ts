import type { Config } from '../config/options.js';
import { GstreamerMediaService } from '../media/gstreamer-media-service.js';
import type { MediaService, MediaViewer, VideoCodec } from '../media/types.js';
import { JanusTarget, type JanusTargetOptions } from './janus-target.js';
import { JanusViewer } from './janus-viewer.js';
import { OffloadedViewer } from './offloaded-viewer.js';

export interface JanusOffloadOptions {
  targets: JanusTargetOptions[];
  /** View-only viewers beyond this many local ones go to Janus (0: every view-only viewer). */
  maxLocalViewers: number;
  /** When a Janus goes away and no other is up: move its viewers to the local fan-out, or tell them and wait. */
  fallback: 'local' | 'tell';
}

/**
 * The media service with Janus in front for big audiences: it decides per viewer whether the local werift
 * fan-out or a Janus serves it. Sessions that may send input, and everything while no Janus is up, stay local.
 */
export class JanusOffload implements MediaService {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly local: GstreamerMediaService,
    readonly targets: readonly JanusTarget[],
    private readonly options: JanusOffloadOptions,
  ) {}

  /** Connects to every Janus and creates the mountpoints; rejects (stopping those it reached) when one fails. */
  static async start(local: GstreamerMediaService, options: JanusOffloadOptions): Promise<JanusOffload> {
    const targets: JanusTarget[] = [];
    try {
      for (const target of options.targets) targets.push(await JanusTarget.start(target, local));
    } catch (err) {
      await Promise.allSettled(targets.map((target) => target.stop()));
      throw new Error(`could not set up Janus: ${(err as Error).message}`, { cause: err });
    }
    return new JanusOffload(local, targets, options);
  }

  get codecs(): readonly VideoCodec[] {
    return this.local.codecs;
  }

  /** Viewers Janus serves now, all gateways together. */
  get janusViewerCount(): number {
    return this.targets.reduce((sum, target) => sum + target.viewers, 0);
  }

  createViewer(sessionId: string, options?: { viewOnly: boolean }): MediaViewer {
    const target = options?.viewOnly && this.local.viewerCount >= this.options.maxLocalViewers ? this.leastLoaded() : undefined;
    if (!target) return this.local.createViewer(sessionId);
    return new OffloadedViewer(sessionId, new JanusViewer(sessionId, target), (id, gone) => this.relocate(id, gone));
  }

  pipelineStats(): Record<string, unknown> {
    return { ...this.local.pipelineStats(), janus_viewers: this.janusViewerCount, janus: this.targets.map((target) => target.stats()) };
  }

  /** Removes our mountpoints from every Janus, then stops the local media. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled(this.targets.map((target) => target.stop()));
      await this.local.stop();
    })();
    return this.stopping;
  }

  private leastLoaded(except?: JanusTarget): JanusTarget | undefined {
    let best: JanusTarget | undefined;
    for (const target of this.targets) {
      if (target === except || !target.isUp) continue;
      if (!best || target.viewers < best.viewers) best = target;
    }
    return best;
  }

  private relocate(sessionId: string, gone: JanusTarget): MediaViewer | undefined {
    const other = this.leastLoaded(gone);
    if (other) return new JanusViewer(sessionId, other);
    return this.options.fallback === 'local' ? this.local.createViewer(sessionId) : undefined;
  }
}

/** The offloading service for `--janus`, around the local one; undefined without `--janus`. */
export async function janusOffloadFor(config: Config, local: MediaService): Promise<JanusOffload | undefined> {
  if (config.janus.length === 0) return undefined;
  if (!(local instanceof GstreamerMediaService)) throw new Error('--janus needs the GStreamer media service to feed it');
  const targets = config.janus.map((url, i): JanusTargetOptions => {
    const adminUrl = config.janusAdmin[i];
    return {
      url,
      ...(config.janusApiSecret ? { apiSecret: config.janusApiSecret } : {}),
      ...(config.janusAdminKey ? { adminKey: config.janusAdminKey } : {}),
      ...(adminUrl ? { admin: { url: adminUrl, secret: config.janusAdminSecret ?? '' } } : {}),
    };
  });
  return JanusOffload.start(local, { targets, maxLocalViewers: config.maxLocalViewers, fallback: config.janusFallback });
}
