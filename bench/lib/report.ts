/**
 * BENCHMARKS.md from the stored results (bench/results.json): the machine, a targets summary, then one
 * section per benchmark with its chart(s), its table(s) and the hand-written analysis kept in
 * bench/notes/<name>.md (so regenerating the file never loses it).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SectionResult } from './context.js';
import type { MachineInfo } from './machine.js';
import { ROOT } from './paths.js';

export interface StoredResults {
  command: string;
  machine: MachineInfo;
  /** Without the SVG text (the charts are files). */
  sections: Record<string, Omit<SectionResult, 'charts'> & { charts: { file: string; alt: string }[] }>;
}

export const ORDER: { name: string; heading: string }[] = [
  { name: 'ttff', heading: 'Time to first frame' },
  { name: 'pageopen', heading: 'Page open to first frame' },
  { name: 'glass', heading: 'Glass-to-glass latency' },
  { name: 'photon', heading: 'Input-to-photon latency' },
  { name: 'fanout', heading: 'Fan-out: viewers of one stream' },
  { name: 'audience', heading: 'Audience: werift fan-out vs Janus' },
  { name: 'signaling', heading: 'Signaling load' },
  { name: 'encoder', heading: 'Encoder CPU, desktop content' },
  { name: 'injection', heading: 'Input injection' },
  { name: 'flood', heading: 'Flood: one abuser against everyone else' },
  { name: 'soak', heading: 'Soak: churn, control and a flood over time' },
  { name: 'cluster', heading: 'Cluster: relay cost and desktops per node' },
  { name: 'networks', heading: 'Real networks: fixed vs adaptive bitrate' },
];

function note(name: string): string {
  const file = `${ROOT}bench/notes/${name}.md`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
}

export function renderReport(results: StoredResults): string {
  const m = results.machine;
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push('Written by `npm run bench` (bench/run.ts) from its own measurements — tables and charts are regenerated on every run;');
  out.push('the analysis under each section lives in `bench/notes/<name>.md`. Loopback only, every load bounded in size and time.');
  out.push('This machine is shared: each comparison runs both sides in the same run, figures are medians with their spread,');
  out.push('and the whole machine\'s CPU is shown beside the processes measured.');
  out.push('');
  out.push('## Machine and run');
  out.push('');
  out.push('| | |');
  out.push('|---|---|');
  out.push(`| command | \`${results.command}\` |`);
  out.push(`| date | ${m.date} |`);
  out.push(`| CPU | ${m.nproc} × ${m.cpuModel} |`);
  out.push(`| RAM | ${m.ramGiB.toFixed(1)} GiB |`);
  out.push(`| Node | ${m.node} |`);
  out.push(`| GStreamer | ${m.gstreamer} |`);
  out.push(`| Chromium | ${m.chromium} |`);
  out.push(`| kernel | ${m.kernel} |`);
  out.push(`| load average at start (1/5/15 min) | ${m.loadAtStart.map((v) => v.toFixed(2)).join(' / ')} |`);
  out.push(`| commit | ${m.commit} |`);
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push('| what | target | measured | met |');
  out.push('|---|---|---|---|');
  for (const { name } of ORDER) {
    const s = results.sections[name];
    if (!s) continue;
    for (const t of s.targets) {
      const verdict = t.met === null ? '—' : t.met ? '✅ yes' : '❌ **no**';
      out.push(`| ${t.what} | ${t.target} | ${t.measured} | ${verdict} |`);
    }
  }
  out.push('');
  ORDER.forEach(({ name, heading }, i) => {
    const s = results.sections[name];
    out.push(`## ${i + 1}. ${heading}`);
    out.push('');
    if (!s) {
      out.push(`_Not measured in the stored results: run \`npm run bench -- --only ${name}\`${name === 'networks' ? ' as root (it builds network namespaces)' : ''}._`);
      out.push('');
      return;
    }
    const load = s.machine
      ? ` Load average at start ${s.machine.loadAtStart[0].toFixed(2)}; machine CPU ${s.machine.machinePercent.toFixed(0)} % of one core (of ${m.nproc * 100} %), of which the bench's own processes ${s.machine.benchPercent.toFixed(0)} % and other work ${s.machine.othersPercent.toFixed(0)} %.`
      : '';
    out.push(`<sub>Measured ${s.ranAt} in ${Math.round(s.seconds)} s${s.quick ? ' (QUICK MODE: tiny sizes, not representative)' : ''}.${load}</sub>`);
    out.push('');
    for (const c of s.charts) {
      out.push(`![${c.alt}](bench/charts/${c.file})`);
      out.push('');
    }
    out.push(s.markdown);
    out.push('');
    const n = note(name);
    if (n) {
      out.push(n);
      out.push('');
    }
  });
  return out.join('\n');
}
