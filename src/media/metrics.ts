import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CongestionFigures } from './congestion/congestion-stats.js';
import { RUNGS } from './congestion/ladder-policy.js';
import type { RungMoves } from './encoder-rate-control.js';
import type { PipelineStats } from './stream-pipeline.js';

/** What the metrics read, at scrape time. */
export interface MediaFigures {
  readonly viewerCount: number;
  streamStats(): PipelineStats[];
  /** Each connected viewer's rate control (none with adaptive bitrate off). */
  viewerRates(): CongestionFigures[];
  /** Viewers' moves between rungs of the ladder since start. */
  rungMoves(): RungMoves;
}

type Figure = 'running' | 'restarts' | 'cpuPercent' | 'bitrateKbps' | 'sentKbps' | 'fps' | 'framesSent' | 'keyframesRequested' | 'keyframesForced';

const PER_STREAM: [Figure, string, string][] = [
  ['running', 'streamgate_media_pipeline_running', '1 while the encoder sends RTP, 0 while idle, starting or restarting'],
  ['restarts', 'streamgate_media_pipeline_restarts', 'Times the encoder was restarted after dying (monotonic)'],
  ['cpuPercent', 'streamgate_media_encoder_cpu_percent', 'CPU of the encoder worker process, % of one core'],
  ['bitrateKbps', 'streamgate_media_encoder_bitrate_kbps', 'Bitrate the video encoder is set to'],
  ['sentKbps', 'streamgate_media_sent_kbps', 'RTP bitrate the encoder sent over the last second'],
  ['fps', 'streamgate_media_fps', 'Video frames the encoder sent over the last second'],
  ['framesSent', 'streamgate_media_frames_sent', 'Video frames sent since start (monotonic)'],
  ['keyframesRequested', 'streamgate_media_keyframes_requested', 'Keyframe requests from viewers (join, PLI, FIR; monotonic)'],
  ['keyframesForced', 'streamgate_media_keyframes_forced', 'Keyframes forced on the encoder after throttling (monotonic)'],
];

/**
 * The media figures as Prometheus gauges, read from the service when scraped (no bookkeeping of our own).
 * Values that only grow are gauges too: they are copied from the encoder's own counts, not incremented here.
 */
export function registerMediaMetrics(registry: Registry, media: MediaFigures): void {
  new Gauge({
    name: 'streamgate_media_viewers',
    help: 'Open media sessions (peer connections)',
    registers: [registry],
    collect() {
      this.set(media.viewerCount);
    },
  });
  registerViewerRateMetrics(registry, media);
  for (const [figure, name, help] of PER_STREAM) {
    new Gauge({
      name,
      help,
      labelNames: ['stream', 'codec'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const stats of media.streamStats()) {
          const value = figure === 'running' ? Number(stats.state === 'running') : stats[figure];
          if (value !== null) this.set({ stream: stats.stream, codec: stats.codec }, value);
        }
      },
    });
  }
}

/**
 * Viewers' estimates and round-trip times as distributions, and how many viewers each rung has: per-session
 * labels would grow without bound (docs/rate-control.md, "Visibility").
 */
function registerViewerRateMetrics(registry: Registry, media: MediaFigures): void {
  const distributions: [string, string, number[], (f: CongestionFigures) => number | null][] = [
    ['streamgate_media_viewer_estimate_kbps', 'Bandwidth estimate of each viewer, kbit/s', [150, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000], (f) => f.estimate_kbps],
    ['streamgate_media_viewer_rtt_ms', 'Round-trip time of each viewer, ms', [5, 10, 25, 50, 100, 200, 400, 800], (f) => f.rtt_ms],
  ];
  for (const [name, help, buckets, read] of distributions) {
    new Histogram({
      name,
      help,
      buckets,
      registers: [registry],
      collect() {
        this.reset();
        for (const figures of media.viewerRates()) {
          const value = read(figures);
          if (value !== null) this.observe(value);
        }
      },
    });
  }
  new Gauge({
    name: 'streamgate_media_rung_viewers',
    help: 'Viewers on each rung of the ladder (full, reduced, small)',
    labelNames: ['rung'] as const,
    registers: [registry],
    collect() {
      const rates = media.viewerRates();
      for (const rung of RUNGS) this.set({ rung }, rates.filter((f) => f.rung === rung).length);
    },
  });
  new Counter({
    name: 'streamgate_media_rung_moves_total',
    help: 'Viewers moved to a lower (down) or better (up) rung of the ladder',
    labelNames: ['direction'] as const,
    registers: [registry],
    collect() {
      // Copied from the rate control's own count at scrape time, like the encoders' counts above.
      const moves = media.rungMoves();
      this.reset();
      for (const direction of ['up', 'down'] as const) this.inc({ direction }, moves[direction]);
    },
  });
}
