import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The one Prometheus registry, served at /metrics. Modules register their own metrics on it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'streamgate_process_' });

export const connectionsGauge = new Gauge({
  name: 'streamgate_connections',
  help: 'Open WebSocket connections',
  registers: [registry],
});

/**
 * Counts made on every signaling message wait in plain numbers and reach prom-client when /metrics is
 * read (its `collect` hook). prom-client's per-call work (label validation and hashing, one object per
 * update) cost Streamgate ~15 % of its signaling CPU against a bare ws server (BENCHMARKS.md §5: ratio
 * 1.52× → 1.35× without it). Label values are bounded: message types and error codes.
 */
class PendingCounts {
  private readonly pending = new Map<string, { n: number }>();

  constructor(private readonly flushInto: (label: string, n: number) => void) {}

  add(label: string): void {
    const entry = this.pending.get(label);
    if (entry) entry.n++;
    else this.pending.set(label, { n: 1 });
  }

  flush(): void {
    for (const [label, entry] of this.pending) {
      if (entry.n === 0) continue;
      this.flushInto(label, entry.n);
      entry.n = 0;
    }
  }
}

const pendingIn = new PendingCounts((type, n) => messagesCounter.labels('in', type).inc(n));
const pendingOut = new PendingCounts((type, n) => messagesCounter.labels('out', type).inc(n));
const pendingErrors = new PendingCounts((code, n) => errorsCounter.labels(code).inc(n));

const messagesCounter = new Counter({
  name: 'streamgate_messages_total',
  help: 'Signaling messages by direction and type',
  labelNames: ['direction', 'type'] as const,
  registers: [registry],
  collect: () => {
    pendingIn.flush();
    pendingOut.flush();
  },
});

const errorsCounter = new Counter({
  name: 'streamgate_errors_total',
  help: 'Error messages sent to peers, by protocol error code',
  labelNames: ['code'] as const,
  registers: [registry],
  collect: () => pendingErrors.flush(),
});

export function countMessage(direction: 'in' | 'out', type: string): void {
  (direction === 'in' ? pendingIn : pendingOut).add(type);
}

export function countError(code: string): void {
  pendingErrors.add(code);
}

export const closesCounter = new Counter({
  name: 'streamgate_closes_total',
  help: 'Connections closed by the server, by close code',
  labelNames: ['code'] as const,
  registers: [registry],
});

export const limitCounter = new Counter({
  name: 'streamgate_limits_triggered_total',
  help: 'Times a limit refused something, by limit',
  labelNames: ['limit'] as const,
  registers: [registry],
});

const handlingHistogram = new Histogram({
  name: 'streamgate_message_handling_seconds',
  help: 'Time to handle one incoming signaling message, by type',
  labelNames: ['type'] as const,
  buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  registers: [registry],
});
const handlingByType = new Map<string, { observe(seconds: number): void }>();

/** Records how long handling one message took (`since` from performance.now()); a child per type, no timer closure. */
export function observeHandling(type: string, since: number): void {
  let child = handlingByType.get(type);
  if (child === undefined) {
    child = handlingHistogram.labels(type);
    handlingByType.set(type, child);
  }
  child.observe((performance.now() - since) / 1000);
}
