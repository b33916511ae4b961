/** Counters of one client, across reconnects (as the seed's PerformanceMonitor, with a bounded latency window). */

export interface ClientMetrics {
  messagesSent: number;
  messagesReceived: number;
  errors: number;
  /** Mean of every measured ping round trip (ms), or null before the first. */
  averageLatency: number | null;
  /** Mean of the last `latencyWindow` round trips (ms), or null. */
  recentLatency: number | null;
  /** The last measured round trip (ms), or null. */
  lastLatency: number | null;
  /** The last `latencyWindow` round trips, oldest first. */
  latencies: number[];
  /** ms since the current connection was welcomed; 0 when not connected. */
  uptime: number;
  /** Messages waiting in the offline queue. */
  queueSize: number;
  /** Messages dropped from the full offline queue. */
  queueDropped: number;
  reconnects: number;
  errorRate: number;
}

export class MetricsRecorder {
  sent = 0;
  received = 0;
  errors = 0;
  reconnects = 0;
  private latencySum = 0;
  private latencyCount = 0;
  private window: number[] = [];
  private connectedAt: number | null = null;

  constructor(private readonly latencyWindow = 100) {}

  recordLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.latencySum += ms;
    this.latencyCount++;
    this.window.push(ms);
    if (this.window.length > this.latencyWindow) this.window.shift();
  }

  markConnected(now: number): void {
    this.connectedAt = now;
  }

  markDisconnected(): void {
    this.connectedAt = null;
  }

  snapshot(now: number, queueSize: number, queueDropped: number): ClientMetrics {
    const recent = this.window.length ? this.window.reduce((a, b) => a + b, 0) / this.window.length : null;
    return {
      messagesSent: this.sent,
      messagesReceived: this.received,
      errors: this.errors,
      averageLatency: this.latencyCount ? this.latencySum / this.latencyCount : null,
      recentLatency: recent,
      lastLatency: this.window.length ? this.window[this.window.length - 1]! : null,
      latencies: [...this.window],
      uptime: this.connectedAt === null ? 0 : Math.max(0, now - this.connectedAt),
      queueSize,
      queueDropped,
      reconnects: this.reconnects,
      errorRate: this.errors / (this.sent || 1),
    };
  }
}
