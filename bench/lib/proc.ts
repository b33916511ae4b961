/**
 * Process accounting from /proc: CPU (utime+stime) and RSS per process, process trees, and the
 * machine-wide CPU so that every figure can be put beside what else the (shared) machine was doing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { summarize, type Summary } from './stats.js';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) the process has used so far; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  const f = statFields(pid);
  if (!f) return null;
  // After the comm: state(0) ppid(1) … utime(11) stime(12).
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/**
 * CPU seconds of a whole process tree so far: for `pid` and every live descendant, its own time plus its
 * reaped children's (cutime/cstime). Short-lived processes count once their parent has reaped them.
 */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const f = statFields(p);
    if (f) total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clockTicks();
  }
  return total;
}

/** Machine-wide busy CPU seconds so far (all cores). */
export function machineCpuSeconds(): number {
  return machineJiffies().busy / clockTicks();
}

/** Resident set size in bytes; null once the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return null;
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
        if (text) out.push(...text.split(/\s+/).map(Number));
      } catch {
        /* task ended */
      }
    }
  } catch {
    /* process ended */
  }
  return out;
}

/** Every process below `pid` (not `pid` itself). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = childPids(pid);
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...childPids(p));
  }
  return out;
}

/** The server's media workers: its descendants running pipeline-worker.js. */
export function workerPids(serverPid: number): number[] {
  return descendants(serverPid).filter((p) => commandLine(p).includes('pipeline-worker'));
}

/** Aggregate jiffies of the whole machine (first line of /proc/stat): busy and total. */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface GroupFigures {
  /** CPU over the whole window, % of one core. */
  cpuPercent: number;
  /** The per-interval CPU figures (% of one core): median and spread. */
  perInterval: Summary;
  /** Summed RSS of the group at the last sample, bytes. */
  rssBytes: number;
  /** Largest summed RSS seen, bytes. */
  rssMaxBytes: number;
  pids: number[];
}

export interface CpuWindow {
  seconds: number;
  groups: Record<string, GroupFigures>;
  /** Whole machine, % of one core (so 200 = both cores of a 2-core machine busy). */
  machinePercent: number;
  machinePerInterval: Summary;
}

/**
 * Samples named groups of processes every `intervalMs`. Groups are functions so that processes
 * appearing mid-window (a media worker starting) are picked up; a process counts from its first sample.
 */
export class CpuSampler {
  private timer: NodeJS.Timeout | undefined;
  private last = new Map<number, number>();
  private lastAt = 0;
  private lastMachine = machineJiffies();
  private startedAt = 0;
  private totals: Record<string, number> = {};
  private intervals: Record<string, number[]> = {};
  private rss: Record<string, { last: number; max: number; pids: Set<number> }> = {};
  private machineIntervals: number[] = [];
  private machineStart = machineJiffies();

  constructor(
    private readonly groups: Record<string, () => number[]>,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    this.startedAt = performance.now();
    this.lastAt = this.startedAt;
    this.machineStart = machineJiffies();
    this.lastMachine = this.machineStart;
    for (const name of Object.keys(this.groups)) {
      this.totals[name] = 0;
      this.intervals[name] = [];
      this.rss[name] = { last: 0, max: 0, pids: new Set() };
    }
    this.sample(false);
    this.timer = setInterval(() => this.sample(true), this.intervalMs);
    return this;
  }

  private sample(record: boolean): void {
    const now = performance.now();
    const dt = (now - this.lastAt) / 1000;
    const seen = new Map<number, number>();
    for (const [name, pidsOf] of Object.entries(this.groups)) {
      let used = 0;
      let rss = 0;
      for (const pid of new Set(pidsOf())) {
        const cpu = cpuSeconds(pid);
        if (cpu === null) continue;
        seen.set(pid, cpu);
        const before = this.last.get(pid);
        if (before !== undefined) used += cpu - before;
        rss += rssBytes(pid) ?? 0;
        this.rss[name]!.pids.add(pid);
      }
      if (record && dt > 0) {
        this.totals[name]! += used;
        this.intervals[name]!.push((used / dt) * 100);
      }
      this.rss[name]!.last = rss;
      this.rss[name]!.max = Math.max(this.rss[name]!.max, rss);
    }
    for (const [pid, cpu] of seen) this.last.set(pid, cpu);
    const m = machineJiffies();
    if (record && m.total > this.lastMachine.total) {
      this.machineIntervals.push(((m.busy - this.lastMachine.busy) / (m.total - this.lastMachine.total)) * cpus().length * 100);
    }
    this.lastMachine = m;
    this.lastAt = now;
  }

  stop(): CpuWindow {
    clearInterval(this.timer);
    this.sample(true);
    const seconds = (this.lastAt - this.startedAt) / 1000;
    const groups: Record<string, GroupFigures> = {};
    for (const name of Object.keys(this.groups)) {
      groups[name] = {
        cpuPercent: seconds > 0 ? (this.totals[name]! / seconds) * 100 : NaN,
        perInterval: summarize(this.intervals[name]!),
        rssBytes: this.rss[name]!.last,
        rssMaxBytes: this.rss[name]!.max,
        pids: [...this.rss[name]!.pids],
      };
    }
    const m = machineJiffies();
    const machinePercent = m.total > this.machineStart.total ? ((m.busy - this.machineStart.busy) / (m.total - this.machineStart.total)) * cpus().length * 100 : NaN;
    return { seconds, groups, machinePercent, machinePerInterval: summarize(this.machineIntervals) };
  }
}

/** Load average (1, 5, 15 min). */
export function loadAverage(): [number, number, number] {
  const v = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  return [v[0] ?? NaN, v[1] ?? NaN, v[2] ?? NaN];
}
