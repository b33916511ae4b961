/**
 * Spreads a viewer's video packets over time instead of writing a frame's packets back to back. A keyframe
 * is tens of packets that arrive from the encoder within a millisecond; sent as they come they fill the
 * bottleneck's queue (or overflow a shaper's bucket) at once, which the browser reports as delay growth
 * and loss. Paced at a multiple of the target rate, a frame still leaves well within its frame interval.
 *
 * A leaky bucket, as in libwebrtc's pacer (factor 2.5), Pion's LeakyBucketPacer and rtpgccbwe: each tick
 * adds rate × elapsed to a budget that packets spend. The queue is bounded in time: when it holds more
 * than `maxQueueDelayMs` at the pacing rate, the rate rises to drain it in that time, so pacing never adds
 * more than that latency however wrong the target is.
 */

/** Timers, injected so that tests drive time. */
export interface PacerClock {
  now(): number;
  /** Calls `callback` after `delayMs`; returns the function that cancels it. */
  schedule(delayMs: number, callback: () => void): () => void;
}

export interface PacerOptions {
  /** Pacing rate as a multiple of the target bitrate. */
  factor?: number;
  /** Longest a packet may wait in the queue. */
  maxQueueDelayMs?: number;
  /** Granularity of sending: packets due within one tick leave together. */
  tickMs?: number;
}

const DEFAULT_FACTOR = 2.5;
const DEFAULT_MAX_QUEUE_DELAY_MS = 100;
const DEFAULT_TICK_MS = 5;

export class Pacer<P> {
  private readonly queue: { packet: P; sizeBytes: number; queuedAtMs: number }[] = [];
  private queuedBytes = 0;
  /** Bytes that may leave now; negative after a packet bigger than what was left. */
  private budgetBytes = 0;
  private lastRefillMs: number | undefined;
  private cancelTick: (() => void) | undefined;
  private rateBps: number;
  private readonly factor: number;
  private readonly maxQueueDelayMs: number;
  private readonly tickMs: number;
  private closed = false;

  constructor(
    targetBps: number,
    private readonly send: (packet: P) => void,
    private readonly clock: PacerClock,
    options: PacerOptions = {},
  ) {
    this.factor = options.factor ?? DEFAULT_FACTOR;
    this.maxQueueDelayMs = options.maxQueueDelayMs ?? DEFAULT_MAX_QUEUE_DELAY_MS;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.rateBps = targetBps * this.factor;
  }

  /** The encoder's (rung's) target bitrate: packets leave at `factor` times it. */
  setTargetBitrate(bps: number): void {
    if (Number.isFinite(bps) && bps > 0) this.rateBps = bps * this.factor;
  }

  enqueue(packet: P, sizeBytes: number): void {
    if (this.closed) return;
    this.queue.push({ packet, sizeBytes, queuedAtMs: this.clock.now() });
    this.queuedBytes += sizeBytes;
    this.drain();
  }

  /** How long the queue would take to leave at the pacing rate. */
  get queueDelayMs(): number {
    return (this.queuedBytes * 8 * 1000) / this.rateBps;
  }

  get length(): number {
    return this.queue.length;
  }

  /** Drops what is queued (the viewer is gone) and stops the timer. */
  close(): void {
    this.closed = true;
    this.cancelTick?.();
    this.cancelTick = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private drain(): void {
    const now = this.clock.now();
    this.refill(now);
    while (this.queue.length > 0 && (this.budgetBytes > 0 || this.overdue(now))) {
      const next = this.queue.shift()!;
      this.queuedBytes -= next.sizeBytes;
      this.budgetBytes -= next.sizeBytes;
      this.send(next.packet);
    }
    if (this.queue.length > 0 && !this.cancelTick) {
      this.cancelTick = this.clock.schedule(this.tickMs, () => {
        this.cancelTick = undefined;
        this.drain();
      });
    }
  }

  private refill(now: number): void {
    // The first packet ever finds the budget of an idle pacer: one tick's worth.
    const elapsedMs = this.lastRefillMs === undefined ? this.tickMs : now - this.lastRefillMs;
    this.lastRefillMs = now;
    // When the queue holds more than it may delay, the rate rises to drain it within that bound.
    const drainBps = (this.queuedBytes * 8 * 1000) / this.maxQueueDelayMs;
    const bytesPerMs = Math.max(this.rateBps, drainBps) / 8 / 1000;
    // An idle pacer saves up at most one tick: otherwise a long pause would let the next frame burst.
    this.budgetBytes = Math.min(this.budgetBytes + elapsedMs * bytesPerMs, this.tickMs * bytesPerMs);
  }

  /** A packet that has waited its longest leaves whatever the budget (a stalled timer, a huge frame). */
  private overdue(now: number): boolean {
    const oldest = this.queue[0];
    return oldest !== undefined && now - oldest.queuedAtMs >= this.maxQueueDelayMs;
  }
}
