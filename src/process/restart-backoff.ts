/**
 * Delays between restarts of a child that keeps dying: doubled after each restart, from `minMs` up to
 * `maxMs`, and back to `minMs` once a run has lasted `stableMs` (it was not crashing in a loop).
 * What counts as a run is the user's call: from the spawn (Xvfb, the app, PulseAudio) or from the first
 * sign of work (an encoder's first RTP), with ended() only called for a run that started.
 */
export class RestartBackoff {
  private delay: number;
  private startedAt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly stableMs = 10_000,
  ) {
    this.delay = minMs;
  }

  /** The child was (re)started. */
  started(now: number = Date.now()): void {
    this.startedAt = now;
  }

  /** The child that ran ended: a run that lasted long enough starts the delays over. */
  ended(now: number = Date.now()): void {
    if (now - this.startedAt > this.stableMs) this.delay = this.minMs;
  }

  /** The next death is not the child's fault (it was told to go): the delays start over. */
  reset(): void {
    this.delay = this.minMs;
  }

  /** How long to wait before the next start; the one after waits twice as long. */
  next(): number {
    const delay = this.delay;
    this.delay = Math.min(this.maxMs, delay * 2);
    return delay;
  }
}
