import os from 'node:os';

/** CPU use of this process since the previous call, as a percentage of one core. */
export class CpuSampler {
  private lastUsage = process.cpuUsage();
  private lastTime = performance.now();
  private lastPercent = 0;

  percent(): number {
    const now = performance.now();
    const elapsedMs = now - this.lastTime;
    // Too short a window gives noise; keep the previous figure.
    if (elapsedMs < 200) return this.lastPercent;
    const usage = process.cpuUsage(this.lastUsage);
    this.lastUsage = process.cpuUsage();
    this.lastTime = now;
    this.lastPercent = Math.round(((usage.user + usage.system) / 1000 / elapsedMs) * 1000) / 10;
    return this.lastPercent;
  }
}

export function systemSnapshot(cpu: CpuSampler, startedAt: number): Record<string, unknown> {
  const memory = process.memoryUsage();
  return {
    cpu: { process_percent: cpu.percent(), cores: os.cpus().length, load_average: os.loadavg() },
    memory: {
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      system_total_bytes: os.totalmem(),
      system_free_bytes: os.freemem(),
    },
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    system_uptime_seconds: Math.round(os.uptime()),
  };
}
