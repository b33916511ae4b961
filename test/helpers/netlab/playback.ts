/** Second-by-second figures of a watched stream, from the cumulative counters the lab's viewer records. */
import type { VideoCounters } from './page/watch.js';

export interface Second {
  /** Seconds since watch() started, at the end of this interval. */
  at: number;
  fps: number;
  kbps: number;
  packetsLost: number;
  nacks: number;
  plis: number;
  /** Mean jitter-buffer delay of the frames emitted in this second, ms (NaN when none were). */
  jitterBufferMs: number;
}

export interface PlaybackSummary {
  seconds: Second[];
  /** Totals over the window (from its first to its last sample). */
  framesDecoded: number;
  freezeCount: number;
  freezeSeconds: number;
  packetsLost: number;
  packetsReceived: number;
  nacks: number;
  plis: number;
  meanKbps: number;
  meanJitterBufferMs: number;
  width: number;
  height: number;
}

export function perSecond(samples: readonly VideoCounters[]): Second[] {
  const out: Second[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = (b.atMs - a.atMs) / 1000;
    if (dt <= 0) continue;
    const emitted = b.jitterBufferEmittedCount - a.jitterBufferEmittedCount;
    out.push({
      at: b.atMs / 1000,
      fps: (b.framesDecoded - a.framesDecoded) / dt,
      kbps: ((b.bytesReceived - a.bytesReceived) * 8) / 1000 / dt,
      packetsLost: b.packetsLost - a.packetsLost,
      nacks: b.nackCount - a.nackCount,
      plis: b.pliCount - a.pliCount,
      jitterBufferMs: emitted > 0 ? ((b.jitterBufferDelay - a.jitterBufferDelay) / emitted) * 1000 : NaN,
    });
  }
  return out;
}

/** Figures of the samples from `fromMs` on (earlier ones — connecting, the first keyframe — are left out). */
export function summarize(samples: readonly VideoCounters[], fromMs = 0): PlaybackSummary {
  const window = samples.filter((s) => s.atMs >= fromMs);
  const first = window[0];
  const last = window[window.length - 1];
  if (!first || !last || window.length < 2) throw new Error(`too few samples after ${fromMs} ms: ${samples.length} in all`);
  const seconds = (last.atMs - first.atMs) / 1000;
  const emitted = last.jitterBufferEmittedCount - first.jitterBufferEmittedCount;
  return {
    seconds: perSecond(window),
    framesDecoded: last.framesDecoded - first.framesDecoded,
    freezeCount: last.freezeCount - first.freezeCount,
    freezeSeconds: last.totalFreezesDuration - first.totalFreezesDuration,
    packetsLost: last.packetsLost - first.packetsLost,
    packetsReceived: last.packetsReceived - first.packetsReceived,
    nacks: last.nackCount - first.nackCount,
    plis: last.pliCount - first.pliCount,
    meanKbps: ((last.bytesReceived - first.bytesReceived) * 8) / 1000 / seconds,
    meanJitterBufferMs: emitted > 0 ? ((last.jitterBufferDelay - first.jitterBufferDelay) / emitted) * 1000 : NaN,
    width: last.frameWidth,
    height: last.frameHeight,
  };
}

/** "30 30 29 … " — the fps of each second, for logs and notes. */
export function fpsLine(seconds: readonly Second[]): string {
  return seconds.map((s) => s.fps.toFixed(0)).join(' ');
}
