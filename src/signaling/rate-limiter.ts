/**
 * A token bucket: `rate` tokens per second, holding at most `burst`.
 * Hand-written because it is six lines of arithmetic on the hot path; a library would cost more than it saves.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number = performance.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Decides when rate limiting turns into disconnection: a peer that keeps overrunning its budget
 * for `strikesToClose` consecutive seconds is abusive, not bursty.
 */
export class AbuseMeter {
  private windowStart = 0;
  private dropsInWindow = 0;
  private strikes = 0;

  constructor(
    private readonly dropsPerStrike: number,
    private readonly strikesToClose = 3,
  ) {}

  /** Records one dropped message; true when the peer should be disconnected. */
  drop(now: number = performance.now()): boolean {
    if (now - this.windowStart >= 1000) {
      const elapsedWindows = Math.floor((now - this.windowStart) / 1000);
      if (this.dropsInWindow < this.dropsPerStrike || elapsedWindows > 1) this.strikes = 0;
      this.windowStart = now;
      this.dropsInWindow = 0;
    }
    this.dropsInWindow += 1;
    if (this.dropsInWindow === this.dropsPerStrike) this.strikes += 1;
    return this.strikes >= this.strikesToClose;
  }
}

/**
 * At most `perSecond` grants in each one-second window (the window starts at the first take after the last
 * one ended); counts the refusals since the last grant, so whoever skipped work can say how much.
 */
export class WindowBudget {
  private windowStart = 0;
  private granted = 0;
  private refusedSinceGrant = 0;

  constructor(private readonly perSecond: number) {}

  take(now: number = performance.now()): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.granted = 0;
    }
    if (this.granted < this.perSecond) {
      this.granted += 1;
      return true;
    }
    this.refusedSinceGrant += 1;
    return false;
  }

  /** How many takes were refused since the previous call (or the start); resets the count. */
  takeRefused(): number {
    const refused = this.refusedSinceGrant;
    this.refusedSinceGrant = 0;
    return refused;
  }
}
