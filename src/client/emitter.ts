/** A small typed event emitter that runs in browsers and Node alike (no node:events). */

type Listener<A> = (arg: A) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  private listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners[event];
    if (!set) {
      set = new Set();
      this.listeners[event] = set;
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (arg) => {
      off();
      listener(arg);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners[event]?.delete(listener);
  }

  /** Resolves with the next `event` whose payload passes `filter`. */
  next<K extends keyof Events>(event: K, filter: (arg: Events[K]) => boolean = () => true): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (arg) => {
        if (!filter(arg)) return;
        off();
        resolve(arg);
      });
    });
  }

  protected emit<K extends keyof Events>(event: K, arg: Events[K]): void {
    const set = this.listeners[event];
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(arg);
      } catch (err) {
        // A listener's bug must not break the client; surface it without swallowing it.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners = {};
  }
}
