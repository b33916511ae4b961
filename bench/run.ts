/**
 * `npm run bench` — runs the benchmarks and writes BENCHMARKS.md, bench/charts/*.svg and bench/results.json.
 *
 *   node dist/bench/run.js                 every benchmark, full size (~10–15 min), writes the report
 *   node dist/bench/run.js --quick         tiny sizes (seconds), prints figures, writes nothing
 *   node dist/bench/run.js --only ttff,glass
 *                                          just these; in full mode their sections are updated in place
 *   --json FILE                            also dump this run's results as JSON (the smoke test reads it)
 *   --write / --no-write                   force writing the report (even in quick mode) / never write it
 *   --report                               only re-render BENCHMARKS.md from bench/results.json (after editing bench/notes)
 *
 * Benchmarks: ttff, pageopen, glass, photon, fanout, audience, signaling, encoder, injection, flood, soak, cluster, networks
 * (networks needs root: without it the section is skipped, and says why).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromium } from './lib/browser.js';
import type { BenchContext, SectionResult } from './lib/context.js';
import { machineInfo } from './lib/machine.js';
import { OUT, ROOT } from './lib/paths.js';
import { loadAverage, machineCpuSeconds, treeCpuSeconds } from './lib/proc.js';
import { ORDER, renderReport, type StoredResults } from './lib/report.js';
import { runCluster } from './benchmarks/cluster.js';
import { runAudience } from './benchmarks/audience.js';
import { runEncoder } from './benchmarks/encoder.js';
import { runFanout } from './benchmarks/fanout.js';
import { runFlood } from './benchmarks/flood.js';
import { runGlass } from './benchmarks/glass.js';
import { runInjection } from './benchmarks/injection.js';
import { networksUnavailable, runNetworks } from './benchmarks/networks.js';
import { runPageOpen } from './benchmarks/pageopen.js';
import { runPhoton } from './benchmarks/photon.js';
import { runSignaling } from './benchmarks/signaling.js';
import { runSoak } from './benchmarks/soak.js';
import { runTtff } from './benchmarks/ttff.js';

export const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<SectionResult>> = {
  injection: runInjection,
  encoder: runEncoder,
  ttff: runTtff,
  pageopen: runPageOpen,
  glass: runGlass,
  photon: runPhoton,
  fanout: runFanout,
  audience: runAudience,
  signaling: runSignaling,
  flood: runFlood,
  soak: runSoak,
  cluster: runCluster,
  networks: runNetworks,
};

/** Why a benchmark cannot run on this machine (it is then skipped, not failed), or null. */
const UNAVAILABLE: Record<string, () => string | null> = { networks: networksUnavailable };

/** Bounds the whole run: a wedged benchmark must not hold the machine. */
const WATCHDOG_MS = { quick: 8 * 60_000, full: 60 * 60_000 };

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null; json: string | null; write: boolean | null } {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--only');
  const only = i >= 0 ? (argv[i + 1] ?? '').split(',').filter(Boolean) : null;
  const j = argv.indexOf('--json');
  const json = j >= 0 ? (argv[j + 1] ?? null) : null;
  const write = argv.includes('--write') ? true : argv.includes('--no-write') ? false : null;
  for (const name of only ?? []) {
    if (!BENCHMARKS[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  }
  return { quick, only, json, write };
}

async function main(): Promise<number> {
  if (process.argv.includes('--report')) {
    const stored = JSON.parse(readFileSync(`${ROOT}bench/results.json`, 'utf8')) as StoredResults;
    writeFileSync(`${ROOT}BENCHMARKS.md`, renderReport(stored));
    process.stderr.write('bench: BENCHMARKS.md re-rendered from bench/results.json\n');
    return 0;
  }
  const args = parseArgs(process.argv.slice(2));
  const names = args.only ?? Object.keys(BENCHMARKS);
  const write = args.write ?? !args.quick;
  mkdirSync(OUT, { recursive: true });
  const watchdog = setTimeout(
    () => {
      process.stderr.write('bench: watchdog expired, stopping\n');
      process.exit(2);
    },
    args.quick ? WATCHDOG_MS.quick : WATCHDOG_MS.full,
  );
  watchdog.unref();
  const machine = machineInfo();
  process.stderr.write(`bench: ${args.quick ? 'quick' : 'full'} run of ${names.join(', ')} on ${machine.nproc} × ${machine.cpuModel}, load ${machine.loadAtStart.join(' ')}\n`);
  let browser: Browser | undefined;
  const ctx: BenchContext = {
    quick: args.quick,
    log: (message) => process.stderr.write(`  ${message}\n`),
    browser: async () => (browser ??= await launchChromium()),
  };
  const results: SectionResult[] = [];
  const failures: string[] = [];
  try {
    for (const name of names) {
      const unavailable = UNAVAILABLE[name]?.();
      if (unavailable) {
        process.stderr.write(`bench: ${name} skipped: ${unavailable}\n`);
        continue;
      }
      const t0 = Date.now();
      process.stderr.write(`bench: ${name}\n`);
      // Everything the bench starts (servers, workers, Xvfb, Chromium, generators) descends from this process:
      // the rest of the machine's CPU is other people's work, shown beside each section.
      const loadAtStart = loadAverage();
      const at0 = { wall: performance.now(), bench: treeCpuSeconds(process.pid), machine: machineCpuSeconds() };
      try {
        const r = await BENCHMARKS[name]!(ctx);
        const seconds = (performance.now() - at0.wall) / 1000;
        const bench = ((treeCpuSeconds(process.pid) - at0.bench) / seconds) * 100;
        const machine = ((machineCpuSeconds() - at0.machine) / seconds) * 100;
        r.machine = { loadAtStart, machinePercent: machine, benchPercent: bench, othersPercent: Math.max(0, machine - bench) };
        if (r.machine.othersPercent > 50) process.stderr.write(`  ! other work used ${r.machine.othersPercent.toFixed(0)} % of a core during ${name}: figures are noisier\n`);
        results.push(r);
        for (const t of r.targets) process.stderr.write(`  → ${t.what}: ${t.measured} (target ${t.target})${t.met === false ? ' MISSED' : ''}\n`);
      } catch (err) {
        failures.push(`${name}: ${(err as Error).stack ?? String(err)}`);
        process.stderr.write(`bench: ${name} FAILED: ${(err as Error).stack ?? String(err)}\n`);
      }
      process.stderr.write(`bench: ${name} took ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }
  } finally {
    await browser?.close().catch(() => undefined);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine, results: results.map((r) => ({ ...r, charts: r.charts.map((c) => ({ file: c.file, bytes: c.svg.length })) })), failures }, null, 1));
  if (write && results.length) {
    const file = `${ROOT}bench/results.json`;
    const stored: StoredResults = existsSync(file) && args.only ? (JSON.parse(readFileSync(file, 'utf8')) as StoredResults) : { command: '', machine, sections: {} };
    stored.command = args.only ? `npm run bench -- --only ${args.only.join(',')} (other sections from an earlier run)` : 'npm run bench';
    if (!args.only) stored.machine = machine;
    else stored.machine = stored.machine ?? machine;
    mkdirSync(`${ROOT}bench/charts`, { recursive: true });
    for (const r of results) {
      for (const c of r.charts) writeFileSync(`${ROOT}bench/charts/${c.file}`, c.svg);
      stored.sections[r.name] = { ...r, charts: r.charts.map(({ file, alt }) => ({ file, alt })) };
    }
    writeFileSync(file, `${JSON.stringify(stored, null, 1)}\n`);
    writeFileSync(`${ROOT}BENCHMARKS.md`, renderReport(stored));
    process.stderr.write(`bench: wrote BENCHMARKS.md, bench/results.json and ${results.reduce((a, r) => a + r.charts.length, 0)} charts\n`);
  }
  if (!args.json) {
    for (const { name } of ORDER) {
      const r = results.find((x) => x.name === name);
      if (!r) continue;
      process.stdout.write(`\n## ${r.title}${r.quick ? ' (quick)' : ''}\n\n${r.markdown}\n`);
    }
  }
  clearTimeout(watchdog);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
