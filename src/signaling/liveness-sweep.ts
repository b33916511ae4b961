/** What the sweep needs of a connection: when it was last heard from (performance.now()), and a ping. */
export interface Pingable {
  readonly lastSeen: number;
  ping(): void;
}

/**
 * How many slices one sweep period is cut into. With ten, a slice at 10k connections (1000 pings, then
 * their 1000 pongs) still held the loop ~10 ms; with fifty it is 200.
 */
const SLICES = 50;
const MIN_TICK_MS = 10;

/**
 * Pings every connection once per `periodMs` and closes those silent for longer than `timeoutMs`.
 * The work is spread over the period in slices instead of one loop: pinging 10 000 sockets at once
 * held the event loop ~40 ms (a socket write each), which every other peer felt as pong latency.
 */
export class LivenessSweep<T extends Pingable> {
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs: number;
  private cursor: Iterator<T> | null = null;

  constructor(
    private readonly connections: ReadonlySet<T>,
    private readonly periodMs: number,
    private readonly timeoutMs: number,
    private readonly onTimeout: (connection: T) => void,
  ) {
    this.tickMs = Math.max(MIN_TICK_MS, Math.floor(periodMs / SLICES));
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    // Enough per tick that each connection is visited once a period; a Set iterator skips deleted
    // entries and reaches ones added behind it, so the cursor survives churn.
    let budget = Math.ceil((this.connections.size * this.tickMs) / this.periodMs);
    const now = performance.now();
    while (budget-- > 0) {
      this.cursor ??= this.connections.values();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        return; // a new round starts next tick, so a small set is not visited twice in one tick
      }
      const connection = next.value;
      if (now - connection.lastSeen > this.timeoutMs) this.onTimeout(connection);
      else connection.ping();
    }
  }
}
