import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The one Prometheus registry, served at /metrics. Modules register their own metrics on it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'streamgate_process_' });

export const connectionsGauge = new Gauge({
  name: 'streamgate_connections',
  help: 'Open WebSocket connections',
  registers: [registry],
});

export const messagesCounter = new Counter({
  name: 'streamgate_messages_total',
  help: 'Signaling messages by direction and type',
  labelNames: ['direction', 'type'] as const,
  registers: [registry],
});

export const errorsCounter = new Counter({
  name: 'streamgate_errors_total',
  help: 'Error messages sent to peers, by protocol error code',
  labelNames: ['code'] as const,
  registers: [registry],
});

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

/**
 * Labelled children cached by label values: prom-client hashes a label object on every call, which showed in
 * the signaling profile (BENCHMARKS.md §5). Label values are bounded (message types, error codes).
 */
function cachedChild<T>(make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let child = cache.get(key);
    if (child === undefined) {
      child = make(key);
      cache.set(key, child);
    }
    return child;
  };
}

const messagesIn = cachedChild((type) => messagesCounter.labels('in', type));
const messagesOut = cachedChild((type) => messagesCounter.labels('out', type));
const errorsByCode = cachedChild((code) => errorsCounter.labels(code));

export function countMessage(direction: 'in' | 'out', type: string): void {
  (direction === 'in' ? messagesIn : messagesOut)(type).inc();
}

export function countError(code: string): void {
  errorsByCode(code).inc();
}

export const handlingHistogram = new Histogram({
  name: 'streamgate_message_handling_seconds',
  help: 'Time to handle one incoming signaling message, by type',
  labelNames: ['type'] as const,
  buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  registers: [registry],
});
