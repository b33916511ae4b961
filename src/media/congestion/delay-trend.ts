/**
 * The delay-based half of the estimator: whether the bottleneck's queue is growing, from when packets were
 * sent and when they arrived. GCC's design (draft-ietf-rmcat-gcc-02, libwebrtc's trendline estimator, Pion's
 * and gst-plugins-rs' rtpgccbwe ports) reduced to what a few viewers need: packets sent within a burst form
 * a group, the change in one-way delay between groups is accumulated and smoothed, and the slope of that
 * over the last few groups is compared with a threshold that adapts to the link's own jitter.
 */

export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/**
 * A send time is taken when werift is handed the packet, and the datagram leaves later in the same turn of
 * the event loop: when the process is descheduled in between (this shared machine at load 25–50), it leaves
 * late by as long, and nothing else is stamped meanwhile. The network lab showed the signature every time a
 * delay spike cut the estimate: a group arriving 110–410 ms "late", followed by a send gap just as long
 * (sd 7 ms, ad 164 ms, then sd 187 ms). A group whose delay jump the send gap after it could explain is not
 * measured: jumps of over `STALL_JUMP_MS`, within `STALL_SLACK_MS` of that gap, when the gap is at least twice
 * the group's own send delta (a stream at a low frame rate, whose every gap is long, keeps its groups).
 */
const STALL_JUMP_MS = 10;
const STALL_SLACK_MS = 5;
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
/**
 * Overuse also needs the queue to be there now: the latest delay this far above the lowest in the window, and
 * not lower than a few groups ago. A stall (the lab's bridge or the browser descheduled on a loaded host,
 * a reordered packet) delays one group and releases the next ones in a burst: the smoothed trend keeps rising
 * for several groups after the delay is back, and read as overuse it cut the estimate on links with room.
 * A real queue is still there, and still growing, when the trend crosses the threshold.
 */
const QUEUE_PRESENT_MS = 5;
const QUEUE_RISE_GROUPS = 3;
/**
 * A standing queue: the lowest delay of the last `STANDING_RECENT_MS` above the lowest of the last `BASE_MS`. The trend
 * sees a queue grow, not one that is already full: the join fills it while delay is not yet believed, and a
 * full drop-tail queue has flat delay and a few per cent loss, which neither the trend nor GCC's loss rule
 * (hold between 2 and 10 %) reacts to. The lowest over a second, not the latest, so that jitter and stalls
 * do not count: on this shared machine at load 30–50 the lab's bridge and the browser were descheduled for
 * a few hundred milliseconds at a time (the server's own timers fired up to 1.3 s late).
 */
export const STANDING_RECENT_MS = 1000;
const BASE_MS = 10_000;

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
  /** The accumulated (unsmoothed) delay of the groups in the window. */
  private readonly raw: number[] = [];
  private deltas = 0;
  private trend = 0;
  private previousTrend = 0;
  private thresholdMs = THRESHOLD_INITIAL_MS;
  private thresholdUpdatedAtMs: number | undefined;
  private overuseMs = -1;
  private overuseCount = 0;
  private usage: BandwidthUsage = 'normal';

  private readonly recentLowest = new SlidingMin(STANDING_RECENT_MS);
  private readonly baseLowest = new SlidingMin(BASE_MS);

  get state(): { usage: BandwidthUsage; trendMs: number; thresholdMs: number } {
    return { usage: this.usage, trendMs: this.modifiedTrend(), thresholdMs: this.thresholdMs };
  }

  /** How far the delay has stayed above its lowest of the last seconds: a queue that does not drain. */
  get standingQueueMs(): number {
    const recent = this.recentLowest.min;
    const base = this.baseLowest.min;
    return recent === undefined || base === undefined ? 0 : recent - base;
  }

  /** Feeds one acknowledged packet, in arrival order; returns the usage after it. */
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
      const jumpMs = arrivalDeltaMs - sendDeltaMs;
      const sendGapMs = packet.sentAtMs - group.lastSentAtMs;
      if (jumpMs > STALL_JUMP_MS && jumpMs <= sendGapMs + STALL_SLACK_MS && sendGapMs >= 2 * sendDeltaMs) {
        // The sender stopped right after stamping this group: its packets may have left up to that long after
        // their send time. Skipped; the next group is measured against the one before it.
        this.current = newGroup(packet);
        return this.usage;
      }
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
    this.raw.push(this.accumulatedMs);
    if (this.raw.length > WINDOW) this.raw.shift();
    this.recentLowest.add(arrivalMs, this.accumulatedMs);
    this.baseLowest.add(arrivalMs, this.accumulatedMs);
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
      if (this.overuseMs > OVERUSE_TIME_MS && this.overuseCount > 1 && this.trend >= this.previousTrend && this.queuePresent()) {
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

  private queuePresent(): boolean {
    const latest = this.raw.at(-1)!;
    const earlier = this.raw.at(-1 - QUEUE_RISE_GROUPS) ?? -Infinity;
    return latest - Math.min(...this.raw) >= QUEUE_PRESENT_MS && latest >= earlier;
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

/** The lowest value of the last `spanMs` (a monotonic queue: each value enters and leaves once). */
class SlidingMin {
  private readonly values: { atMs: number; value: number }[] = [];

  constructor(private readonly spanMs: number) {}

  get min(): number | undefined {
    return this.values[0]?.value;
  }

  add(atMs: number, value: number): void {
    while (this.values.length > 0 && this.values.at(-1)!.value >= value) this.values.pop();
    this.values.push({ atMs, value });
    while (this.values[0]!.atMs <= atMs - this.spanMs) this.values.shift();
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

