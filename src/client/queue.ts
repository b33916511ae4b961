/**
 * A bounded FIFO for messages sent while offline. When full, the oldest entry is dropped
 * (as the seed's MessageQueue): the newest input is the one that still matters.
 */
export class MessageQueue<T> {
  private items: { message: T; queuedAt: number }[] = [];
  private droppedCount = 0;

  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 0) throw new RangeError(`MessageQueue maxSize must be an integer ≥ 0, got ${maxSize}`);
  }

  /** Adds a message; returns the one dropped to make room, if any. */
  enqueue(message: T, now: number = Date.now()): T | undefined {
    if (this.maxSize === 0) {
      this.droppedCount++;
      return message;
    }
    let dropped: T | undefined;
    if (this.items.length >= this.maxSize) {
      dropped = this.items.shift()?.message;
      this.droppedCount++;
    }
    this.items.push({ message, queuedAt: now });
    return dropped;
  }

  dequeue(): T | undefined {
    return this.items.shift()?.message;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out = this.items.map((i) => i.message);
    this.items = [];
    return out;
  }

  /** The queued messages, oldest first, without removing them. */
  peekAll(): T[] {
    return this.items.map((i) => i.message);
  }

  clear(): void {
    this.items = [];
  }

  get size(): number {
    return this.items.length;
  }

  /** How many messages were dropped because the queue was full, since creation. */
  get dropped(): number {
    return this.droppedCount;
  }
}
