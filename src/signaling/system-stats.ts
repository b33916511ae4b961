import os from 'node:os';

/**
 * How long one snapshot answers every `get-stats`: reading the process's memory costs ~0.5 ms, and each peer
 * may ask as often as its message budget allows (16 peers doing so took 70 % of the server's CPU).
 */
const SNAPSHOT_MAX_AGE_MS = 200;

type Snapshot = Record<string, unknown>;

/** The `system` stats section: CPU use since the previous snapshot, memory, load and uptimes, shared by all peers. */
export class SystemSampler {
  private lastUsage = process.cpuUsage();
  private lastTime = performance.now();
  private last: Snapshot | undefined;

  constructor(private readonly startedAt: number) {}

  /** A fresh snapshot, or the previous one while it is younger than SNAPSHOT_MAX_AGE_MS. */
  snapshot(): Snapshot {
    const elapsedMs = performance.now() - this.lastTime;
    if (this.last && elapsedMs < SNAPSHOT_MAX_AGE_MS) return this.last;
    const memory = process.memoryUsage();
    this.last = {
      cpu: { process_percent: this.cpuPercent(elapsedMs), cores: os.cpus().length, load_average: os.loadavg() },
      memory: {
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        system_total_bytes: os.totalmem(),
        system_free_bytes: os.freemem(),
      },
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      system_uptime_seconds: Math.round(os.uptime()),
    };
    return this.last;
  }

  /** CPU use of this process since the previous snapshot, as a percentage of one core; 0 for a window too short to be more than noise. */
  private cpuPercent(elapsedMs: number): number {
    if (elapsedMs < SNAPSHOT_MAX_AGE_MS) return 0;
    const usage = process.cpuUsage(this.lastUsage);
    this.lastUsage = process.cpuUsage();
    this.lastTime += elapsedMs;
    return Math.round(((usage.user + usage.system) / 1000 / elapsedMs) * 1000) / 10;
  }
}
