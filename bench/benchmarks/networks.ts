/**
 * Real networks: over each of the network lab's link profiles (test/helpers/netlab, docs/network-lab.md),
 * today's fixed bitrate (`--adaptive-bitrate off`) against adaptive (`ladder`, the default), side by side in
 * one run, each on a fresh server. The server runs in the lab's server namespace with a virtual desktop
 * whose app is the painter: its clock (read back per presented frame, as the glass bench does) gives
 * glass-to-glass, and its noise keeps the encoder spending the whole bitrate it is given. Chromium runs
 * in the browser namespace; every packet crosses the lab's impairment bridge and tbf.
 * Needs root (network namespaces); without it the section is skipped and says why.
 * To measure one case fast, filter by comma-separated names: NETWORKS_PROFILES=congested NETWORKS_MODES=adaptive.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { LabViewer, launchLabChromium } from '../../test/helpers/netlab/browser.js';
import { NetLab } from '../../test/helpers/netlab/lab.js';
import { perSecond, summarize as summarizePlayback, type PlaybackSummary, type Second } from '../../test/helpers/netlab/playback.js';
import { PROFILES, type LinkProfile } from '../../test/helpers/netlab/profiles.js';
import { startLabServer } from '../../test/helpers/netlab/server.js';
import type { ClockFrame } from '../page/clock-reader.js';
import { pageBundle } from '../lib/browser.js';
import { section, type BenchContext, type SectionResult, type TargetVerdict } from '../lib/context.js';
import {
  glassSummary,
  longestStill,
  MIN_FRAMES_PER_WINDOW,
  onScreenAge,
  reachedAfter,
  recoveryMs,
  stillsOver,
  timed,
  within,
  type TimedFrame,
} from '../lib/playback-timeline.js';
import { OUT } from '../lib/paths.js';
import { loadAverage } from '../lib/proc.js';
import { num, sleep } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';
import { painterApp, readPainterLog } from './glass.js';

const BITRATE_KBPS = 2500;
/** The painter's clock rate: half the glass bench's, for CPU (the clock's own lag grows by ~2 ms). */
const PAINTER_HZ = 120;
const CODEC = 'H264';
/** Left out of every figure: connecting, the first keyframe, the estimator's start (the issue's "first 5 s"). */
const SETTLE_MS = 5000;
/** Quick mode: a shorter start and window (its figures only show the section works). */
const QUICK = { settleMs: 3000, windowMs: 4000 };
/** The latency goal: glass-to-glass p95 under this. */
const LATENCY_LIMIT_MS = 300;
/** A freeze the mobile goal allows none of. */
const FREEZE_LIMIT_MS = 500;
/** "Full bitrate" after the congested link returns: this share of --bitrate, held for FULL_HOLD_MS. */
const FULL_SHARE = 0.9;
const FULL_HOLD_MS = 3000;

const MODES = [
  { mode: 'fixed', flag: 'off' },
  { mode: 'adaptive', flag: 'ladder' },
] as const;
type Mode = (typeof MODES)[number]['mode'];

/** Why the section cannot run here, or null. */
export function networksUnavailable(): string | null {
  return process.getuid?.() === 0 ? null : 'needs root (the network lab builds network namespaces): run `sudo npm run bench -- --only networks`';
}

interface Run {
  profile: string;
  mode: Mode;
  /** Load average (1 min) when the run started: the machine is shared. */
  load: number;
  /** Wall ms: the profile applied (its schedule counts from here), the measured window. */
  appliedAt: number;
  from: number;
  to: number;
  frames: TimedFrame[];
  seconds: (Second & { wallEnd: number })[];
  playback: PlaybackSummary;
  /** The encoder's target bitrate as the server set it (adaptive only; the server's debug log). */
  encoder: { at: number; kbps: number }[];
  bridgeLostDown: number;
  queueDropsDown: number;
  /** Why the picture was not the painter's throughout (its app or X display restarted), or null. */
  contentLost: string | null;
}

/** Server warnings that mean the desktop's picture stopped being the painter's for a while. */
const CONTENT_LOST = ['app exited; restarting it', 'virtual display lost; restarting it', 'Xvfb restart failed'];

/** The end of the measured window: 20 s after its start, or 15 s after a schedule's last step. */
function windowEnd(profile: LinkProfile, quick: boolean, from: number, appliedAt: number): number {
  if (quick) return from + QUICK.windowMs;
  const lastStep = Math.max(0, ...profile.schedule.map((s) => s.atMs));
  return lastStep > 0 ? Math.max(from, appliedAt + lastStep + 15_000) : from + 20_000;
}

/** Resolves once the painter has logged its first paint rate (it has painted for a second). */
async function painterRunning(logFile: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (readPainterLog(logFile).rateHz.n === 0) {
    if (Date.now() > end) throw new Error(`the painter did not paint within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

async function runOne(ctx: BenchContext, lab: NetLab, browser: Browser, profile: LinkProfile, mode: (typeof MODES)[number]): Promise<Run> {
  const load = loadAverage()[0];
  await lab.apply(PROFILES.lan);
  // Run as root, the server runs the painter as an unprivileged user: it may write its log, not the folder.
  const painterLog = `${OUT}/painter-networks.jsonl`;
  writeFileSync(painterLog, '');
  chmodSync(painterLog, 0o666);
  const server = await startLabServer(lab, [
    '--source', 'virtual',
    '--resolution', '1280x720',
    '--framerate', '30',
    '--app', `${painterApp(painterLog, PAINTER_HZ)} --noise 30`,
    '--bitrate', String(BITRATE_KBPS),
    '--adaptive-bitrate', mode.flag,
    // The encoder's bitrate changes are debug lines (src/media/encoder-rate-control.ts).
    '--log-level', 'debug',
  ]);
  const before = await lab.bridgeCounts();
  let viewer: LabViewer | undefined;
  try {
    // The picture must be up before the viewer joins: on a busy machine the painter takes seconds to start.
    await painterRunning(painterLog, 30_000);
    await lab.apply(profile);
    const appliedAt = Date.now();
    viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: CODEC });
    await viewer.page.addScriptTag({ content: await pageBundle('bench/page/clock-reader.ts') });
    await viewer.page.evaluate(() => window.clockReader.start());
    const startedAt = await viewer.startedWallMs();
    const from = startedAt + (ctx.quick ? QUICK.settleMs : SETTLE_MS);
    const to = windowEnd(profile, ctx.quick, from, appliedAt);
    await sleep(to - Date.now() + 500);
    const frames = timed((await viewer.page.evaluate(() => window.clockReader.take())) as ClockFrame[]);
    const samples = await viewer.samples();
    const after = await lab.bridgeCounts();
    const painter = readPainterLog(painterLog).rateHz;
    const warnings = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 40).map((l) => `${String(l.msg)}${l.output ? ` (${String(l.output)})` : ''}`);
    ctx.log(`  painter ${num(painter.p50, 0)} Hz over ${painter.n} s; server warnings: ${warnings.length ? [...new Set(warnings)].join('; ') : 'none'}`);
    const lost = server.logs.find((l) => CONTENT_LOST.includes(String(l.msg)));
    const inWindow = samples.filter((s) => startedAt + s.atMs <= to + 1000);
    return {
      profile: profile.name,
      mode: mode.mode,
      load,
      appliedAt,
      from,
      to,
      frames: frames.filter((f) => f.presented >= appliedAt && f.presented < to),
      seconds: perSecond(inWindow).map((s) => ({ ...s, wallEnd: startedAt + s.at * 1000 })),
      playback: summarizePlayback(inWindow, from - startedAt),
      encoder: server.logs
        .filter((l) => l.msg === 'encoder bitrate follows its viewers' && typeof l.kbps === 'number' && typeof l.time === 'number')
        .map((l) => ({ at: l.time as number, kbps: l.kbps as number })),
      bridgeLostDown: after.down.lost - before.down.lost,
      queueDropsDown: await lab.queueDrops('down'),
      contentLost: lost ? `${String(lost.msg)}${lost.output ? ` (${String(lost.output).split('\n')[0]})` : ''}` : null,
    };
  } finally {
    await viewer?.page.evaluate(() => window.clockReader?.stop()).catch(() => undefined);
    await viewer?.close();
    await server.stop();
  }
}

/** Figures of one run over its measured window. */
function figuresOf(run: Run) {
  const frames = within(run.frames, run.from, run.to);
  const seconds = (run.to - run.from) / 1000;
  const p = run.playback;
  const sent = p.packetsReceived + p.packetsLost;
  return {
    glass: glassSummary(frames),
    readable: frames.filter((f) => f.g2g !== null).length,
    presentedFps: frames.length / seconds,
    decodedFps: p.framesDecoded / seconds,
    freezeCount: p.freezeCount,
    freezeSeconds: p.freezeSeconds,
    longestStillMs: longestStill(run.frames, run.from, run.to),
    stillsOver500: stillsOver(run.frames, run.from, run.to, FREEZE_LIMIT_MS),
    packetsLost: p.packetsLost,
    lossPercent: sent > 0 ? (p.packetsLost / sent) * 100 : NaN,
    kbps: p.meanKbps,
    nacks: p.nacks,
    plis: p.plis,
  };
}

/** The congested profile's two moments: the drop and the return, from its schedule. */
function congestedMoments(run: Run): { drop: number; back: number } {
  const [drop, back] = PROFILES.congested.schedule.map((s) => run.appliedAt + s.atMs);
  return { drop: drop!, back: back! };
}

function recoveryOf(run: Run) {
  const { drop, back } = congestedMoments(run);
  const full = FULL_SHARE * BITRATE_KBPS;
  const received = run.seconds.map((s) => ({ at: s.wallEnd - 1000, value: s.kbps }));
  return {
    latencyBackMs: recoveryMs(run.frames, drop, back, LATENCY_LIMIT_MS),
    receivedFullMs: reachedAfter(received, back, run.to, full, FULL_HOLD_MS),
    encoderFullMs: run.mode === 'adaptive' ? reachedAfter(encoderSteps(run), back, run.to, full, FULL_HOLD_MS) : null,
  };
}

/** The encoder's bitrate as a step series: the ceiling until the first change (adaptive starts at it). */
function encoderSteps(run: Run): { at: number; value: number }[] {
  return run.mode === 'fixed' ? [{ at: run.appliedAt, value: BITRATE_KBPS }] : run.encoder.map((e) => ({ at: e.at, value: e.kbps }));
}

const seconds = (ms: number | null): string => (ms === null ? 'not within the window' : `${num(ms / 1000, 1)} s`);

function row(run: Run): string {
  const f = figuresOf(run);
  return `| ${run.profile}${run.contentLost ? ' ⚠ painter lost' : ''} | ${run.mode} | **${num(f.glass.p50, 0)}** | **${num(f.glass.p95, 0)}** | ${f.readable} | ${num(f.presentedFps, 1)} | ${num(f.decodedFps, 1)} | ${f.freezeCount} (${num(f.freezeSeconds, 1)} s) | ${num(f.longestStillMs / 1000, 1)} s | ${f.packetsLost} (${num(f.lossPercent, 1)} %) | ${num(f.kbps, 0)} | ${num(run.load, 1)} |`;
}

function congestedCharts(runs: Run[]): { file: string; svg: string; alt: string }[] {
  const congested = runs.filter((r) => r.profile === 'congested');
  if (!congested.length) return [];
  const rel = (run: Run, at: number): number => Math.round((at - run.appliedAt) / 100) / 10;
  const end = Math.max(...congested.map((r) => r.to - r.appliedAt)) / 1000;
  const link: [number, number][] = [[0, PROFILES.congested.down.shaping!.rateKbit]];
  for (const step of PROFILES.congested.schedule) {
    link.push([step.atMs / 1000, link[link.length - 1]![1]], [step.atMs / 1000, step.rateKbit]);
  }
  link.push([end, link[link.length - 1]![1]]);
  const bitrate = lineChart({
    title: `congested: bitrate over time, fixed vs adaptive (--bitrate ${BITRATE_KBPS})`,
    xLabel: 's after the profile was applied (drop at 10, return at 30)',
    yLabel: 'kbit/s',
    yMin: 0,
    series: [
      ...congested.map((r) => ({ label: `${r.mode}: received`, points: r.seconds.map((s) => [rel(r, s.wallEnd), s.kbps] as const) })),
      ...congested
        .filter((r) => r.mode === 'adaptive')
        .map((r) => {
          const steps = encoderSteps(r).filter((e) => e.at <= r.to);
          const points: [number, number][] = [];
          for (const e of steps) {
            if (points.length) points.push([Math.max(0, rel(r, e.at)), points[points.length - 1]![1]]);
            points.push([Math.max(0, rel(r, e.at)), e.value]);
          }
          if (points.length) points.push([rel(r, r.to), points[points.length - 1]![1]]);
          return { label: 'adaptive: encoder', points, dashed: true };
        }),
      { label: 'link (down)', points: link, dashed: true },
    ],
  });
  const latency = lineChart({
    title: 'congested: age of the picture on screen (glass-to-glass), fixed vs adaptive',
    xLabel: 's after the profile was applied (drop at 10, return at 30)',
    yLabel: 'ms (max per 250 ms)',
    yMin: 0,
    reference: { value: LATENCY_LIMIT_MS, label: `${LATENCY_LIMIT_MS} ms` },
    series: congested.map((r) => {
      const ages = onScreenAge(r.frames, r.appliedAt + 2000, r.to, 50);
      const points: [number, number][] = [];
      for (let i = 0; i < ages.length; i += 5) {
        const bin = ages.slice(i, i + 5).map((a) => a.ageMs).filter((v) => Number.isFinite(v));
        if (bin.length) points.push([rel(r, ages[i]!.at), Math.max(...bin)]);
      }
      return { label: r.mode, points };
    }),
  });
  return [
    { file: 'networks-congested-bitrate.svg', svg: bitrate, alt: 'congested profile: received and encoder bitrate over time, fixed vs adaptive' },
    { file: 'networks-congested-latency.svg', svg: latency, alt: 'congested profile: glass-to-glass latency over time, fixed vs adaptive' },
  ];
}

function targets(runs: Run[]): TargetVerdict[] {
  const find = (profile: string, mode: Mode): Run | undefined => runs.find((r) => r.profile === profile && r.mode === mode);
  const out: TargetVerdict[] = [];
  const mobile = { adaptive: find('mobile', 'adaptive'), fixed: find('mobile', 'fixed') };
  if (mobile.adaptive) {
    const a = figuresOf(mobile.adaptive);
    const f = mobile.fixed ? figuresOf(mobile.fixed) : null;
    out.push({
      what: 'Networks, mobile (adaptive): glass-to-glass p95',
      target: `< ${LATENCY_LIMIT_MS} ms`,
      measured: `${num(a.glass.p95, 0)} ms (fixed: ${num(f?.glass.p95, 0)} ms)`,
      met: a.glass.p95 < LATENCY_LIMIT_MS,
    });
    out.push({
      what: 'Networks, mobile (adaptive): freezes after the first 5 s',
      target: `none > ${FREEZE_LIMIT_MS} ms`,
      measured: `${a.stillsOver500}, longest ${num(a.longestStillMs / 1000, 1)} s (fixed: ${f?.stillsOver500 ?? '—'}, longest ${num((f?.longestStillMs ?? NaN) / 1000, 1)} s)`,
      met: a.stillsOver500 === 0,
    });
  }
  const congested = { adaptive: find('congested', 'adaptive'), fixed: find('congested', 'fixed') };
  if (congested.adaptive) {
    const a = recoveryOf(congested.adaptive);
    const f = congested.fixed ? recoveryOf(congested.fixed) : null;
    out.push({
      what: 'Networks, congested (adaptive): p95 back under 300 ms after the drop',
      target: '≤ 3 s',
      measured: `${seconds(a.latencyBackMs)} (fixed: ${f ? seconds(f.latencyBackMs) : '—'})`,
      met: a.latencyBackMs !== null && a.latencyBackMs <= 3000,
    });
    out.push({
      what: 'Networks, congested (adaptive): full bitrate after the link returns',
      target: '≤ 10 s',
      measured: `received ${seconds(a.receivedFullMs)}, encoder ${seconds(a.encoderFullMs)} (fixed: received ${f ? seconds(f.receivedFullMs) : '—'})`,
      met: a.receivedFullMs !== null && a.receivedFullMs <= 10_000,
    });
  }
  return out;
}

/** The items an environment variable (comma-separated names) keeps; all when it is unset. */
function onlyNamed<T>(items: readonly T[], name: (item: T) => string, variable: string): T[] {
  const wanted = process.env[variable]?.split(',').map((s) => s.trim()).filter(Boolean);
  return wanted?.length ? items.filter((item) => wanted.includes(name(item))) : [...items];
}

export async function runNetworks(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const profiles = onlyNamed(ctx.quick ? [PROFILES.lan, PROFILES.mobile] : Object.values(PROFILES), (p) => p.name, 'NETWORKS_PROFILES');
  const modes = onlyNamed(MODES, (m) => m.mode, 'NETWORKS_MODES');
  const lab = await NetLab.create();
  const runs: Run[] = [];
  const failures: string[] = [];
  const retried: string[] = [];
  let browser: Browser | undefined;
  try {
    browser = await launchLabChromium(lab);
    // Fixed and adaptive back to back on each profile: the machine's load drifts less between the two.
    for (const profile of profiles) {
      for (const mode of modes) {
        const label = `${profile.name} ${mode.mode}`;
        ctx.log(`networks: ${label}`);
        try {
          // Not a network figure: the painter did not start, or it or its display died, under the machine's load. Once more.
          const first = await runOne(ctx, lab, browser, profile, mode).catch((err: Error) => err);
          const lost = first instanceof Error ? first.message.split('\n')[0]! : first.contentLost;
          if (lost) {
            ctx.log(`  content lost (${lost}): running ${label} again`);
            retried.push(`${label}: ${lost}`);
          }
          const run = lost ? await runOne(ctx, lab, browser, profile, mode) : (first as Run);
          const f = figuresOf(run);
          ctx.log(`  g2g p50/p95 ${num(f.glass.p50, 0)}/${num(f.glass.p95, 0)} ms, ${num(f.presentedFps, 1)} fps shown, ${num(f.kbps, 0)} kbit/s, longest still ${num(f.longestStillMs / 1000, 1)} s, load ${num(run.load, 1)}`);
          runs.push(run);
        } catch (err) {
          failures.push(`${label}: ${(err as Error).message}`);
          ctx.log(`  failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await lab.destroy();
  }

  const congested = runs.filter((r) => r.profile === 'congested');
  const markdown = [
    `The server's virtual desktop (1280×720, 30 fps, ${CODEC}, \`--bitrate ${BITRATE_KBPS}\`, video only) runs the painter: its clock for`,
    'glass-to-glass (read back from every presented frame, as in the glass section) and random 8×8 blocks over ~60 % of the',
    'picture, repainted 30 times a second, so the encoder spends all the bitrate it is given. **fixed** is `--adaptive-bitrate off`',
    '(no adaptation), **adaptive** is `--adaptive-bitrate ladder` (the default; one viewer: its rung follows it). Each row is a fresh server and viewer on that profile;',
    ctx.quick
      ? `figures are over the window from ${QUICK.settleMs / 1000} s after the viewer started to ${(QUICK.settleMs + QUICK.windowMs) / 1000} s (quick mode).`
      : `figures are over the window from ${SETTLE_MS / 1000} s after the viewer started to its end (20 s; for congested, 15 s after the return).`,
    '',
    '- **g2g**: glass-to-glass of the frames whose clock could be read ("frames read"); "fps shown" counts every frame',
    '  presented, "fps decoded" is Chromium\'s `framesDecoded`.',
    '- **freezes**: Chromium\'s `freezeCount` (`totalFreezesDuration`); it misses a stream that stops for good.',
    '  **longest still** is the longest time without a new frame on screen, the window\'s edges included.',
    '- **loss** is what the browser could not recover (`packetsLost`); **kbit/s** is received video.',
    '- **load**: the 1-minute load average when the row started (2 cores, shared).',
    '',
    '| profile | bitrate | g2g p50 ms | g2g p95 ms | frames read | fps shown | fps decoded | freezes (total) | longest still | packets lost | kbit/s received | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(row),
    ...(congested.length
      ? [
          '',
          `congested (5 Mbit/s, the downlink at 800 kbit/s from 10 s to 30 s after the profile was applied). "Latency back": the first instant after the drop from which every rolling 1 s window until the return has ≥ ${MIN_FRAMES_PER_WINDOW} readable frames and a g2g p95 < ${LATENCY_LIMIT_MS} ms. "Full bitrate": the first second after the return from which received (or the encoder's) kbit/s stays ≥ ${FULL_SHARE * 100} % of ${BITRATE_KBPS} for ${FULL_HOLD_MS / 1000} s.`,
          '',
          '| bitrate | latency back after the drop | full bitrate received after the return | encoder back at full after the return |',
          '|---|---|---|---|',
          ...congested.map((r) => {
            const c = recoveryOf(r);
            return `| ${r.mode} | ${seconds(c.latencyBackMs)} | ${seconds(c.receivedFullMs)} | ${r.mode === 'fixed' ? 'always at full' : seconds(c.encoderFullMs)} |`;
          }),
        ]
      : []),
    '',
    'Frames decoded, second by second:',
    '',
    ...runs.map((r) => `- ${r.profile} ${r.mode}: ${r.seconds.filter((s) => s.wallEnd > r.from).map((s) => s.fps.toFixed(0)).join(' ')}`),
    '',
    'Profiles:',
    '',
    ...profiles.map((p) => `- ${p.name}: ${p.description}`),
    ...(retried.length ? ['', `Run again because the painter's picture was missing (not a network effect): ${retried.join('; ')}.`] : []),
    ...(failures.length ? ['', `Failed: ${failures.join('; ')}`] : []),
  ].join('\n');
  return section(ctx, started, {
    name: 'networks',
    title: 'Real networks: fixed vs adaptive bitrate',
    markdown,
    charts: congestedCharts(runs),
    figures: {
      bitrateKbps: BITRATE_KBPS,
      codec: CODEC,
      runs: runs.map((r) => ({
        profile: r.profile,
        mode: r.mode,
        load: r.load,
        ...figuresOf(r),
        recovery: r.profile === 'congested' ? recoveryOf(r) : null,
        fpsPerSecond: r.seconds.map((s) => Math.round(s.fps)),
        kbpsPerSecond: r.seconds.map((s) => Math.round(s.kbps)),
        bridgeLostDown: r.bridgeLostDown,
        queueDropsDown: r.queueDropsDown,
        contentLost: r.contentLost,
      })),
      retried,
      failures,
    },
    targets: targets(runs),
  });
}
