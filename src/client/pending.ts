import { StreamgateError } from './errors.js';

/** How long a waiter waits, and what the TIMEOUT error says it waited for ("No pong within 15000 ms."). */
export interface WaitTimeout {
  ms: number;
  what: string;
}

interface Waiter<T, K> {
  readonly key: K;
  resolve(value: T): void;
  reject(error: StreamgateError): void;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Promises waiting for an answer from the server: the one mechanism behind ping, request/reply,
 * connect() and requestOffer(). Each caller keeps in a waiter's `key` what its answer is matched by
 * (a sequence number, a message id, a message type); waiters are kept oldest first, and a waiter
 * settled here stops its timer, so a late answer or a late timeout finds nothing to settle.
 */
export class PendingRequests<T, K> {
  private waiters: Waiter<T, K>[] = [];

  /** Waits for an answer matched to `key`; with `timeout`, rejects with a TIMEOUT error when none comes in time. */
  wait(key: K, timeout?: WaitTimeout): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T, K> = { key, resolve, reject, timer: null };
      if (timeout) {
        waiter.timer = setTimeout(() => {
          this.remove(waiter);
          reject(new StreamgateError('TIMEOUT', `No ${timeout.what} within ${timeout.ms} ms.`, 'client'));
        }, timeout.ms);
      }
      this.waiters.push(waiter);
    });
  }

  /** The keys still waiting, oldest first. */
  keys(): K[] {
    return this.waiters.map((w) => w.key);
  }

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves every waiter whose key matches; returns how many. */
  resolve(match: (key: K) => boolean, value: T): number {
    return this.settle(match, (w) => w.resolve(value));
  }

  /** Rejects every waiter whose key matches; returns how many. */
  reject(match: (key: K) => boolean, error: StreamgateError): number {
    return this.settle(match, (w) => w.reject(error));
  }

  resolveAll(value: T): number {
    return this.resolve(() => true, value);
  }

  rejectAll(error: StreamgateError): number {
    return this.reject(() => true, error);
  }

  private settle(match: (key: K) => boolean, outcome: (waiter: Waiter<T, K>) => void): number {
    const settled: Waiter<T, K>[] = [];
    const kept: Waiter<T, K>[] = [];
    for (const w of this.waiters) (match(w.key) ? settled : kept).push(w);
    this.waiters = kept;
    for (const w of settled) {
      if (w.timer) clearTimeout(w.timer);
      outcome(w);
    }
    return settled.length;
  }

  private remove(waiter: Waiter<T, K>): void {
    this.waiters = this.waiters.filter((w) => w !== waiter);
  }
}
