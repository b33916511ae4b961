/**
 * Runs async tasks one at a time, in the order they were pushed; a failing task does not stop the ones
 * after it. The one mechanism for "negotiation steps of one peer never overlap", on the server (session,
 * media peer) and in the client SDK alike, so it imports nothing (it runs in browsers too).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Resolves or rejects with `task`'s own outcome, after every task pushed before it has settled. */
  push<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every task pushed so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
