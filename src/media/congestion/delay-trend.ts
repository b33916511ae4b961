/**
 * The delay-based half of the estimator: whether the bottleneck's queue is growing, from when packets were
 * sent and when they arrived. GCC's design (draft-ietf-rmcat-gcc-02, libwebrtc's trendline estimator, Pion's
 * and gst-plugins-rs' rtpgccbwe ports) reduced to what a few viewers need: packets sent within a burst form
 * a group, the change in one-way delay between groups is accumulated and smoothed, and the slope of that
 * over the last few groups is compared with a threshold that adapts to the link's own jitter.
 */

export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/** Packets sent less than this apart are one group: a frame, or one tick of the pacer. */
const BURST_MS = 5;
const WINDOW = 20;
const SMOOTHING = 0.9;
const THRESHOLD_GAIN = 4;
/** The trend is scaled by the number of deltas seen, up to this many (libwebrtc's kMinNumDeltas). */
const MAX_DELTAS = 60;
const OVERUSE_TIME_MS = 10;
const THRESHOLD_INITIAL_MS = 12.5;
const THRESHOLD_MIN_MS = 6;
const THRESHOLD_MAX_MS = 600;
/** The threshold rises fast when the trend exceeds it (jittery link), falls slowly otherwise. */
const THRESHOLD_UP = 0.0087;
const THRESHOLD_DOWN = 0.039;
/** A trend this far above the threshold is a real spike: it must not teach the threshold to ignore spikes. */
const THRESHOLD_SPIKE_MS = 15;

export interface SentAndArrived {
  sentAtMs: number;
  /** On the receiver's clock: only differences between arrivals are used. */
  receivedAtMs: number;
}

interface Group {
  firstSentAtMs: number;
  lastSentAtMs: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
}

export class DelayTrend {
  private current: Group | undefined;
  private previous: Group | undefined;
  private firstArrivalMs: number | undefined;
  private accumulatedMs = 0;
  private smoothedMs = 0;
  private readonly window: { x: number; y: number }[] = [];
  private deltas = 0;
  private trend = 0;
  private previousTrend = 0;
  private thresholdMs = THRESHOLD_INITIAL_MS;
  private thresholdUpdatedAtMs: number | undefined;
  private overuseMs = -1;
  private overuseCount = 0;
  private usage: BandwidthUsage = 'normal';

  get state(): { usage: BandwidthUsage; trendMs: number; thresholdMs: number } {
    return { usage: this.usage, trendMs: this.modifiedTrend(), thresholdMs: this.thresholdMs };
  }

  /** Feeds one acknowledged packet, in send order; returns the usage after it. */
  add(packet: SentAndArrived): BandwidthUsage {
    const group = this.current;
    if (!group) {
      this.current = newGroup(packet);
      return this.usage;
    }
    if (packet.sentAtMs < group.firstSentAtMs) return this.usage; // reordered before its group: no information
    if (this.belongsTo(group, packet)) {
      group.lastSentAtMs = Math.max(group.lastSentAtMs, packet.sentAtMs);
      group.lastArrivalMs = Math.max(group.lastArrivalMs, packet.receivedAtMs);
      return this.usage;
    }
    if (this.previous) {
      const sendDeltaMs = group.lastSentAtMs - this.previous.lastSentAtMs;
      const arrivalDeltaMs = group.lastArrivalMs - this.previous.lastArrivalMs;
      this.update(sendDeltaMs, arrivalDeltaMs, group.lastArrivalMs);
    }
    this.previous = group;
    this.current = newGroup(packet);
    return this.usage;
  }

  private belongsTo(group: Group, packet: SentAndArrived): boolean {
    if (packet.sentAtMs - group.firstSentAtMs <= BURST_MS) return true;
    // Arrived in a burst that caught up with the group (a queue emptying): the same group to the receiver.
    const arrivalGapMs = packet.receivedAtMs - group.lastArrivalMs;
    const delayChangeMs = packet.receivedAtMs - group.firstArrivalMs - (packet.sentAtMs - group.firstSentAtMs);
    return arrivalGapMs >= 0 && arrivalGapMs < BURST_MS && delayChangeMs < 0;
  }

  private update(sendDeltaMs: number, arrivalDeltaMs: number, arrivalMs: number): void {
    this.firstArrivalMs ??= arrivalMs;
    this.deltas = Math.min(this.deltas + 1, 1000);
    this.accumulatedMs += arrivalDeltaMs - sendDeltaMs;
    this.smoothedMs = SMOOTHING * this.smoothedMs + (1 - SMOOTHING) * this.accumulatedMs;
    this.window.push({ x: arrivalMs - this.firstArrivalMs, y: this.smoothedMs });
    if (this.window.length > WINDOW) this.window.shift();
    if (this.window.length === WINDOW) this.trend = slope(this.window) ?? this.trend;
    this.detect(sendDeltaMs, arrivalMs);
  }

  private modifiedTrend(): number {
    return Math.min(this.deltas, MAX_DELTAS) * this.trend * THRESHOLD_GAIN;
  }

  private detect(sendDeltaMs: number, nowMs: number): void {
    const trend = this.modifiedTrend();
    if (trend > this.thresholdMs) {
      this.overuseMs = this.overuseMs === -1 ? sendDeltaMs / 2 : this.overuseMs + sendDeltaMs;
      this.overuseCount++;
      if (this.overuseMs > OVERUSE_TIME_MS && this.overuseCount > 1 && this.trend >= this.previousTrend) {
        this.overuseMs = 0;
        this.overuseCount = 0;
        this.usage = 'overusing';
      }
    } else {
      this.overuseMs = -1;
      this.overuseCount = 0;
      this.usage = trend < -this.thresholdMs ? 'underusing' : 'normal';
    }
    this.previousTrend = this.trend;
    this.adaptThreshold(trend, nowMs);
  }

  private adaptThreshold(trend: number, nowMs: number): void {
    this.thresholdUpdatedAtMs ??= nowMs;
    const magnitude = Math.abs(trend);
    if (magnitude > this.thresholdMs + THRESHOLD_SPIKE_MS) {
      this.thresholdUpdatedAtMs = nowMs;
      return;
    }
    const k = magnitude < this.thresholdMs ? THRESHOLD_DOWN : THRESHOLD_UP;
    const elapsedMs = Math.min(nowMs - this.thresholdUpdatedAtMs, 100);
    this.thresholdMs += k * (magnitude - this.thresholdMs) * elapsedMs;
    this.thresholdMs = Math.min(Math.max(this.thresholdMs, THRESHOLD_MIN_MS), THRESHOLD_MAX_MS);
    this.thresholdUpdatedAtMs = nowMs;
  }
}

function newGroup(packet: SentAndArrived): Group {
  return {
    firstSentAtMs: packet.sentAtMs,
    lastSentAtMs: packet.sentAtMs,
    firstArrivalMs: packet.receivedAtMs,
    lastArrivalMs: packet.receivedAtMs,
  };
}

/** Least-squares slope of y over x; undefined when all x are equal. */
function slope(points: readonly { x: number; y: number }[]): number | undefined {
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    numerator += (p.x - meanX) * (p.y - meanY);
    denominator += (p.x - meanX) ** 2;
  }
  return denominator === 0 ? undefined : numerator / denominator;
}
