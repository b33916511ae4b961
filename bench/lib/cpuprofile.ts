/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time went: self time per function and
 * inclusive time per function, as shares of the profiled (non-idle) time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  /** % of busy (non-idle) time. */
  selfPct: number;
  totalPct: number;
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/').replace(/^node:/, 'node:');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
}

/**
 * Self and inclusive time per function (by name and location), busiest first. `window` keeps only the
 * samples between those offsets from the end of the profile (ms; e.g. the measurement window before a stop).
 */
export function analyzeProfile(
  file: string,
  top = 25,
  window?: { fromEndMs: number; toEndMs: number },
): { busyMs: number; idleMs: number; gcMs: number; bySelf: ProfileLine[]; byTotal: ProfileLine[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (window) {
    let t = p.startTime;
    const keepSamples: number[] = [];
    const keepDeltas: number[] = [];
    p.samples.forEach((id, i) => {
      t += p.timeDeltas[i] ?? 0;
      const fromEnd = (p.endTime - t) / 1000;
      if (fromEnd <= window.fromEndMs && fromEnd >= window.toEndMs) {
        keepSamples.push(id);
        keepDeltas.push(p.timeDeltas[i] ?? 0);
      }
    });
    p.samples = keepSamples;
    p.timeDeltas = keepDeltas;
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  let idle = 0;
  let gc = 0;
  let busy = 0;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') {
      idle += us;
      continue;
    }
    if (name === '(garbage collector)') gc += us;
    busy += us;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  const lines = (m: Map<string, number>): ProfileLine[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name]) => ({ name, selfPct: ((self.get(name) ?? 0) / busy) * 100, totalPct: ((total.get(name) ?? 0) / busy) * 100 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, gcMs: gc / 1000, bySelf: lines(self), byTotal: lines(total) };
}
