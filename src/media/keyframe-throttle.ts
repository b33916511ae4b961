/**
 * Limits keyframe requests to the encoder. Chromium repeats a PLI about every 200 ms until a keyframe
 * arrives, and several viewers may ask at once; one keyframe serves them all, and each costs bitrate.
 * A request inside the quiet interval is not dropped but deferred to its end, so every request is
 * followed by a keyframe produced after it.
 */
export class KeyframeThrottle {
  private last = -Infinity;
  private deferred: NodeJS.Timeout | undefined;
  /** Requests received / forwarded to the encoder. */
  requested = 0;
  sent = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly send: () => void,
  ) {}

  request(): void {
    this.requested++;
    if (this.deferred) return;
    const wait = this.last + this.intervalMs - performance.now();
    if (wait <= 0) this.fire();
    else this.deferred = setTimeout(() => this.fire(), wait);
  }

  cancel(): void {
    clearTimeout(this.deferred);
    this.deferred = undefined;
  }

  private fire(): void {
    this.deferred = undefined;
    this.last = performance.now();
    this.sent++;
    this.send();
  }
}
