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

  /** Takes `cost` tokens if the bucket holds them; a refused take takes nothing. */
  take(cost = 1, now: number = performance.now()): boolean {
    if (!this.holds(cost, now)) return false;
    this.tokens -= cost;
    return true;
  }

  /** True when `cost` tokens could be taken now. */
  holds(cost = 1, now: number = performance.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    return this.tokens >= cost;
  }
}

/**
 * Decides when rate limiting turns into disconnection: a peer with messages dropped in each of
 * `strikesToClose` consecutive windows of `windowMs` keeps overrunning its budget; it is abusive, not bursty.
 * Quarter-second windows close a flooder within a second, while one burst is a single strike.
 */
export class AbuseMeter {
  private windowStart = -Infinity;
  private strikes = 0;

  constructor(
    private readonly windowMs = 250,
    private readonly strikesToClose = 3,
  ) {}

  /** Records one dropped message; true when the peer should be disconnected. */
  drop(now: number = performance.now()): boolean {
    const elapsed = now - this.windowStart;
    if (elapsed >= this.windowMs) {
      // The next window is a strike too only if it follows this one without a gap.
      this.strikes = elapsed < 2 * this.windowMs ? this.strikes + 1 : 1;
      this.windowStart = now;
    }
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
