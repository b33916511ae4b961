/**
 * What a viewer saw over time, from the frames it presented (the painter's clock read back from each,
 * bench/page/clock-reader.ts) and its per-second counters: glass-to-glass in a window, the longest time
 * the picture stood still, when latency came back after a drop, when the bitrate came back after a return.
 * Every time here is wall-clock ms (the painter, the page and the server share the machine's clock).
 */
import type { ClockFrame } from '../page/clock-reader.js';
import { clockDelta } from './pattern.js';
import { percentile, summarize, type Summary } from './stats.js';

/** A presented frame with its glass-to-glass latency (null when its clock could not be read). */
export interface TimedFrame {
  presented: number;
  g2g: number | null;
}

export function timed(frames: readonly ClockFrame[]): TimedFrame[] {
  return frames.map((f) => ({ presented: f.presented, g2g: f.painted === null ? null : clockDelta(f.presented, f.painted) }));
}

export function within(frames: readonly TimedFrame[], from: number, to: number): TimedFrame[] {
  return frames.filter((f) => f.presented >= from && f.presented < to);
}

export function glassSummary(frames: readonly TimedFrame[]): Summary {
  return summarize(frames.flatMap((f) => (f.g2g === null ? [] : [f.g2g])));
}

/**
 * The longest stretch of [from, to) without a new frame on screen, ms: gaps between presented frames,
 * and the edges (a stream that stops for good ends in one long gap, which no freeze counter reports).
 */
export function longestStill(frames: readonly TimedFrame[], from: number, to: number): number {
  let last = from;
  let longest = 0;
  for (const f of frames) {
    if (f.presented < from || f.presented >= to) continue;
    longest = Math.max(longest, f.presented - last);
    last = f.presented;
  }
  return Math.max(longest, to - last);
}

/** Stills longer than `ms` in [from, to), with the edges as in longestStill. */
export function stillsOver(frames: readonly TimedFrame[], from: number, to: number, ms: number): number {
  let last = from;
  let count = 0;
  for (const f of frames) {
    if (f.presented < from || f.presented >= to) continue;
    if (f.presented - last > ms) count++;
    last = f.presented;
  }
  return count + (to - last > ms ? 1 : 0);
}

/** A rolling window is "playing" with at least this many readable frames in its second (a third of 30 fps). */
export const MIN_FRAMES_PER_WINDOW = 10;

/**
 * How long after `from` the stream's latency was back, for good until `to`: the first instant t from
 * which every rolling 1 s window (t−1 s, t] (stepped by 50 ms) has ≥ MIN_FRAMES_PER_WINDOW readable frames
 * and a glass-to-glass p95 under `limitMs`. 0 when it never left; null when it was not back by `to`.
 */
export function recoveryMs(frames: readonly TimedFrame[], from: number, to: number, limitMs: number): number | null {
  const readable = frames.filter((f): f is { presented: number; g2g: number } => f.g2g !== null);
  let since: number | null = null;
  for (let t = from; t <= to; t += 50) {
    const window = readable.filter((f) => f.presented > t - 1000 && f.presented <= t).map((f) => f.g2g).sort((a, b) => a - b);
    const ok = window.length >= MIN_FRAMES_PER_WINDOW && percentile(window, 95) < limitMs;
    if (!ok) since = null;
    else since ??= t;
  }
  return since === null ? null : since - from;
}

/**
 * The age of the picture on screen (now − the clock it shows), sampled every `stepMs` over [from, to):
 * it keeps rising through a freeze, where per-frame latency has no sample. NaN before the first readable frame.
 */
export function onScreenAge(frames: readonly TimedFrame[], from: number, to: number, stepMs: number): { at: number; ageMs: number }[] {
  const readable = frames.filter((f) => f.g2g !== null);
  const out: { at: number; ageMs: number }[] = [];
  let k = -1;
  for (let t = from; t < to; t += stepMs) {
    while (k + 1 < readable.length && readable[k + 1]!.presented <= t) k++;
    const f = readable[k];
    out.push({ at: t, ageMs: f ? f.g2g! + (t - f.presented) : NaN });
  }
  return out;
}

/**
 * The first time after `from` at which `values` (a step series: each value holds from its `at` until the
 * next one, the last until `end`) reached `threshold` and held it for `holdMs`, as ms after `from`; null
 * when it never did.
 */
export function reachedAfter(values: readonly { at: number; value: number }[], from: number, end: number, threshold: number, holdMs: number): number | null {
  const after = values.filter((v) => v.at >= from);
  for (let i = 0; i < after.length; i++) {
    if (after[i]!.value < threshold) continue;
    const start = after[i]!.at;
    let j = i;
    while (j + 1 < after.length && after[j + 1]!.value >= threshold) j++;
    const heldUntil = j + 1 < after.length ? after[j + 1]!.at : end;
    if (heldUntil - start >= holdMs) return start - from;
    i = j;
  }
  return null;
}
