/**
 * A bit rate over a sliding window of timestamped byte counts. Timestamps only need to share one clock
 * and not go backwards by much: acknowledged bytes are counted on the receiver's clock, sent bytes on ours.
 */
export class RateWindow {
  private readonly samples: { atMs: number; bytes: number }[] = [];
  private bytes = 0;
  private firstAtMs: number | undefined;

  constructor(
    private readonly windowMs: number,
    /** Below this much history there is no rate yet: two packets 1 ms apart are not 10 Mbit/s. */
    private readonly minSpanMs = 100,
  ) {}

  add(atMs: number, bytes: number): void {
    this.firstAtMs ??= atMs;
    this.samples.push({ atMs, bytes });
    this.bytes += bytes;
    this.evict(atMs);
  }

  /** Bits per second over the window ending at `nowMs` (the newest sample by default), or null. */
  bps(nowMs?: number): number | null {
    const last = this.samples.at(-1);
    if (!last || this.firstAtMs === undefined) return null;
    const end = Math.max(nowMs ?? last.atMs, last.atMs);
    this.evict(end);
    const spanMs = Math.min(this.windowMs, end - this.firstAtMs);
    if (spanMs < this.minSpanMs) return null;
    return (this.bytes * 8 * 1000) / spanMs;
  }

  private evict(nowMs: number): void {
    while (this.samples.length > 0 && this.samples[0]!.atMs <= nowMs - this.windowMs) {
      this.bytes -= this.samples.shift()!.bytes;
    }
  }
}
