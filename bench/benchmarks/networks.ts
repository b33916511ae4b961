/**
 * Real networks: the server's fixed bitrate (today's behaviour, no adaptation) over each of the network
 * lab's link profiles (test/helpers/netlab, docs/network-lab.md). The server runs in the lab's server
 * namespace, Chromium in its browser namespace, every packet crosses the lab's impairment bridge and tbf.
 * Per profile: frames decoded per second, second by second (Chromium's freezeCount stays 0 on a stream
 * that never recovers), freezes, packets lost, NACK/PLI sent, bitrate received, jitter-buffer delay.
 * Needs root (network namespaces): run it with `--only networks`.
 */
import type { Browser } from 'playwright-core';
import { LabViewer, launchLabChromium } from '../../test/helpers/netlab/browser.js';
import { NetLab } from '../../test/helpers/netlab/lab.js';
import { fpsLine, summarize, type PlaybackSummary } from '../../test/helpers/netlab/playback.js';
import { PROFILES, type LinkProfile } from '../../test/helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../../test/helpers/netlab/server.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { num, sleep, summarize as summarizeSamples } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';

const BITRATE_KBPS = 2500;
const CODEC = 'H264';
/** Left out of every figure: connecting and the first keyframe. */
const SETTLE_MS = 3000;
/** A second is "frozen" below this many decoded frames. */
const LOW_FPS = 15;

interface ProfileRun {
  /** The profile's name, and the bitrate when it is not the default. */
  profile: string;
  description: string;
  summary: PlaybackSummary;
  bridge: { lostDown: number; lostUp: number };
  /** Packets the downlink's tbf dropped (queue full). */
  queueDropsDown: number;
}

function measuredSeconds(profile: LinkProfile, quick: boolean): number {
  if (quick) return 5;
  // The congested profile's schedule (drop at 10 s, back at 30 s) and 15 s of recovery after it.
  const lastStep = Math.max(0, ...profile.schedule.map((s) => s.atMs));
  return lastStep > 0 ? lastStep / 1000 + 15 : 20;
}

async function runProfile(lab: NetLab, browser: Browser, server: LabServer, profile: LinkProfile, quick: boolean): Promise<ProfileRun> {
  const before = await lab.bridgeCounts();
  await lab.apply(profile);
  const viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: CODEC });
  try {
    await sleep(SETTLE_MS + measuredSeconds(profile, quick) * 1000 + 500);
    const summary = summarize(await viewer.samples(), SETTLE_MS);
    const after = await lab.bridgeCounts();
    const queueDropsDown = await lab.queueDrops('down');
    return {
      profile: profile.name,
      description: profile.description,
      summary,
      bridge: { lostDown: after.down.lost - before.down.lost, lostUp: after.up.lost - before.up.lost },
      queueDropsDown,
    };
  } finally {
    await viewer.close();
    // Back to an open link so that the next viewer's signaling is not slowed by this profile.
    await lab.apply(PROFILES.lan);
  }
}

function row(run: ProfileRun): string {
  const s = run.summary;
  const fps = summarizeSamples(s.seconds.map((x) => x.fps));
  const low = s.seconds.filter((x) => x.fps < LOW_FPS).length;
  const lossPercent = s.packetsReceived + s.packetsLost > 0 ? (s.packetsLost / (s.packetsReceived + s.packetsLost)) * 100 : NaN;
  return `| ${run.profile} | **${num(fps.p50, 0)}** | ${num(fps.min, 0)} | ${low} / ${s.seconds.length} | ${s.freezeCount} (${num(s.freezeSeconds, 1)} s) | ${s.packetsLost} (${num(lossPercent, 1)} %) | ${run.bridge.lostDown} / ${run.queueDropsDown} | ${s.nacks} | ${s.plis} | ${num(s.meanKbps, 0)} | ${num(s.meanJitterBufferMs, 0)} |`;
}

/** Controls (full runs only): the same links at a bitrate that fits them, to show the lab is not what stops the video. */
const CONTROLS: { profile: LinkProfile; bitrateKbps: number }[] = [
  { profile: PROFILES.narrow, bitrateKbps: 700 },
  { profile: PROFILES.mobile, bitrateKbps: 1000 },
];

export async function runNetworks(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const jobs = [
    ...(ctx.quick ? [PROFILES.lan, PROFILES.narrow] : Object.values(PROFILES)).map((profile) => ({ profile, bitrateKbps: BITRATE_KBPS })),
    ...(ctx.quick ? [] : CONTROLS),
  ];
  const lab = await NetLab.create();
  const runs: ProfileRun[] = [];
  const failures: string[] = [];
  let server: LabServer | undefined;
  let serverBitrate = 0;
  let browser: Browser | undefined;
  try {
    browser = await launchLabChromium(lab);
    for (const { profile, bitrateKbps } of jobs) {
      const label = bitrateKbps === BITRATE_KBPS ? profile.name : `${profile.name} @ ${bitrateKbps} kbit/s`;
      ctx.log(`networks: ${label} (${measuredSeconds(profile, ctx.quick)} s)`);
      try {
        if (serverBitrate !== bitrateKbps) {
          await server?.stop();
          server = await startLabServer(lab, ['--source', 'test', '--resolution', '1280x720', '--framerate', '30', '--bitrate', String(bitrateKbps)]);
          serverBitrate = bitrateKbps;
        }
        const run = await runProfile(lab, browser, server!, profile, ctx.quick);
        ctx.log(`  fps ${fpsLine(run.summary.seconds)}`);
        runs.push({ ...run, profile: label });
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message}`);
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await lab.destroy();
  }

  const markdown = [
    `Source \`test\` (SMPTE bars with their noise patch) 1280×720 at 30 fps, ${CODEC} at the fixed \`--bitrate ${BITRATE_KBPS}\`, video only,`,
    'the SDK in headless Chromium in the lab\'s browser namespace; the server in its server namespace; the link between them',
    'shaped by the named profile (docs/network-lab.md). Figures from the browser\'s `inbound-rtp`, after the first',
    `${SETTLE_MS / 1000} s. "Seconds < ${LOW_FPS} fps" counts seconds with fewer frames decoded: Chromium's freeze counters stay at 0 on`,
    'a stream that stops for good. "Packets lost" is what the browser could not recover (NACK retransmissions fill in the rest);',
    '"dropped down" is what the lab dropped on the way to the browser: the bridge\'s random loss, and tbf when its queue was full.',
    '',
    `| profile | fps p50 | fps min | seconds < ${LOW_FPS} fps | freezes (duration) | packets lost | dropped down: bridge / queue | NACK sent | PLI sent | kbit/s received | jitter buffer ms |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(row),
    '',
    'Frames decoded, second by second:',
    '',
    ...runs.map((r) => `- ${r.profile}: ${fpsLine(r.summary.seconds)}`),
    '',
    'Profiles:',
    '',
    ...runs.map((r) => `- ${r.profile}: ${r.description}`),
    '',
    `Rows with "@ N kbit/s" are controls: the server started with that \`--bitrate\` instead of ${BITRATE_KBPS}.`,
    ...(failures.length ? ['', `Failed: ${failures.join('; ')}`] : []),
  ].join('\n');
  const chart = lineChart({
    title: `Frames decoded per second per link profile (fixed ${BITRATE_KBPS} kbit/s unless labelled)`,
    xLabel: 's after the first 3',
    yLabel: 'frames decoded / s',
    series: runs.map((r) => ({ label: r.profile, points: r.summary.seconds.map((s, i) => [i + 1, s.fps] as const) })),
    yMin: 0,
  });
  return section(ctx, started, {
    name: 'networks',
    title: 'Real networks (fixed bitrate)',
    markdown,
    charts: [{ file: 'networks-fps.svg', svg: chart, alt: 'frames decoded per second over time on each link profile' }],
    figures: {
      bitrateKbps: BITRATE_KBPS,
      codec: CODEC,
      runs: runs.map((r) => ({
        profile: r.profile,
        perSecond: r.summary.seconds,
        framesDecoded: r.summary.framesDecoded,
        freezeCount: r.summary.freezeCount,
        freezeSeconds: r.summary.freezeSeconds,
        packetsLost: r.summary.packetsLost,
        packetsReceived: r.summary.packetsReceived,
        nacks: r.summary.nacks,
        plis: r.summary.plis,
        meanKbps: r.summary.meanKbps,
        meanJitterBufferMs: r.summary.meanJitterBufferMs,
        bridgeLost: r.bridge,
        queueDropsDown: r.queueDropsDown,
      })),
      failures,
    },
    targets: [],
  });
}
