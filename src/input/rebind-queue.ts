/** Most events held back while a spare keycode cannot be rebound yet; beyond, the oldest are dropped. */
const MAX_WAITING = 5000;

interface Waiting {
  owner: object;
  run: () => void;
  move: boolean;
}

/**
 * Input held back while a key waits for a spare keycode that was used too recently to be rebound
 * (see Keymap). Everything after it waits too, whichever peer sent it: order is kept across peers.
 */
export class RebindQueue {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Events that had to wait. */
  private deferredCount = 0;
  /** Queued moves replaced by a newer one from the same peer. */
  private coalescedCount = 0;

  get eventsDeferred(): number {
    return this.deferredCount;
  }

  get movesCoalesced(): number {
    return this.coalescedCount;
  }

  /** Whether input waits: a new event must queue behind the waiting ones. */
  get active(): boolean {
    return this.waiting.length > 0;
  }

  /** Queues an event behind the waiting ones (a move replaces the same owner's queued move). */
  enqueue(owner: object, run: () => void, move: boolean): void {
    const last = this.waiting.at(-1);
    if (move && last?.move && last.owner === owner) {
      last.run = run;
      this.coalescedCount++;
      return;
    }
    if (this.waiting.length >= MAX_WAITING) this.waiting.shift();
    this.waiting.push({ owner, run, move });
    this.deferredCount++;
  }

  /** Holds `run` (and everything after it) until `retryAt` (performance.now() time). */
  deferUntil(retryAt: number, owner: object, run: () => void): void {
    this.waiting.unshift({ owner, run, move: false });
    this.deferredCount++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.drain(), Math.max(1, Math.ceil(retryAt - performance.now())));
  }

  /** Drops what `owner` queued (a peer releasing everything: its waiting events would press after). */
  drop(owner: object): void {
    if (this.waiting.length) this.waiting = this.waiting.filter((w) => w.owner !== owner);
    if (!this.waiting.length && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  clear(): void {
    this.waiting = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private drain(): void {
    this.timer = null;
    const queue = this.waiting;
    this.waiting = [];
    while (queue.length > 0) {
      queue.shift()!.run();
      if (this.waiting.length > 0) {
        // It had to wait again: the rest waits behind it.
        this.waiting.push(...queue);
        return;
      }
    }
  }
}
