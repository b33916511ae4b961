/**
 * Time to first frame: `request-offer` sent → first frame presented in headless Chromium
 * (requestVideoFrameCallback), through the client SDK as an application uses it. Joins alternate
 * between codecs so both see the same machine. "Warm": another viewer already watches (the encoder
 * runs, the new viewer needs a keyframe); "cold": the first viewer, which starts the encoder.
 */
import type { Page } from 'playwright-core';
import type { JoinTiming } from '../page/agent.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { agentPage } from '../lib/browser.js';
import { startBenchServer } from '../lib/server.js';
import { num, sleep, summarize, type Summary } from '../lib/stats.js';
import { distributionChart } from '../lib/svg.js';

const CODECS = ['H264', 'VP8'] as const;
/** The server keeps an encoder this long after its last viewer (media/gstreamer-media-service.ts). */
const LINGER_MS = 5000;

interface Phase {
  offer: Summary;
  answer: Summary;
  connected: Summary;
  firstFrame: Summary;
  firstFrameReceived: Summary;
}

function phases(joins: JoinTiming[]): Phase {
  return {
    offer: summarize(joins.map((j) => j.offer)),
    answer: summarize(joins.map((j) => j.answer)),
    connected: summarize(joins.map((j) => j.connected ?? NaN)),
    firstFrame: summarize(joins.map((j) => j.firstFrame)),
    firstFrameReceived: summarize(joins.map((j) => j.firstFrameReceived ?? NaN)),
  };
}

async function joinOnce(page: Page, wsUrl: string, codec: string): Promise<JoinTiming> {
  await page.evaluate((url) => window.agent.connect(url, 'bench-ttff'), wsUrl);
  const timing = await page.evaluate((c) => window.agent.join(c, true), codec);
  await page.evaluate(() => window.agent.leave());
  return timing;
}

export async function runTtff(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const warmJoins = ctx.quick ? 2 : 12;
  const coldJoins = ctx.quick ? 0 : 3;
  const browser = await ctx.browser();
  const server = await startBenchServer(['--source', 'test', '--resolution', '1280x720', '--framerate', '30', '--max-peers-per-ip', '1000']);
  const warm: Record<string, JoinTiming[]> = { H264: [], VP8: [] };
  const cold: Record<string, JoinTiming[]> = { H264: [], VP8: [] };
  const failures: string[] = [];
  const page = await agentPage(browser, server.url);
  try {
    // Cold first: nothing runs yet. Each cold join waits for the encoders to stop again.
    for (let i = 0; i < coldJoins; i++) {
      for (const codec of CODECS) {
        ctx.log(`ttff cold ${codec} ${i + 1}/${coldJoins}`);
        await sleep(LINGER_MS + 1500);
        try {
          cold[codec]!.push(await joinOnce(page, server.wsUrl, codec));
        } catch (err) {
          failures.push(`cold ${codec}: ${(err as Error).message}`);
        }
      }
    }
    // Warm: one anchor viewer per codec keeps both encoders (and the audio one) running.
    const anchors: Page[] = [];
    for (const codec of CODECS) {
      const anchor = await agentPage(browser, server.url);
      await anchor.evaluate((url) => window.agent.connect(url, 'bench-anchor'), server.wsUrl);
      await anchor.evaluate((c) => window.agent.join(c, true), codec);
      anchors.push(anchor);
    }
    await sleep(1000);
    for (let i = 0; i < warmJoins; i++) {
      for (const codec of CODECS) {
        ctx.log(`ttff warm ${codec} ${i + 1}/${warmJoins}`);
        try {
          warm[codec]!.push(await joinOnce(page, server.wsUrl, codec));
        } catch (err) {
          failures.push(`warm ${codec}: ${(err as Error).message}`);
        }
        // Keyframe requests are throttled per encoder: spacing joins keeps each one independent.
        await sleep(400 + Math.random() * 200);
      }
    }
    for (const a of anchors) await a.close();
  } finally {
    await page.close().catch(() => undefined);
    await server.stop();
  }

  const row = (label: string, joins: JoinTiming[]): string => {
    const p = phases(joins);
    return `| ${label} | ${joins.length} | **${num(p.firstFrame.p50, 0)}** | ${num(p.firstFrame.p90, 0)} | ${num(p.firstFrame.min, 0)}–${num(p.firstFrame.max, 0)} | ${num(p.offer.p50, 0)} | ${num(p.answer.p50, 0)} | ${num(p.connected.p50, 0)} | ${num(p.firstFrameReceived.p50, 0)} |`;
  };
  const rows = [
    ...CODECS.map((c) => row(`${c} warm`, warm[c]!)),
    ...(coldJoins ? CODECS.map((c) => row(`${c} cold (starts the encoder)`, cold[c]!)) : []),
  ];
  const markdown = [
    'Source `test` 1280×720 at 30 fps, video + audio requested (as the seed client does), the SDK in headless Chromium.',
    'Columns after p90 are the medians of the steps, in ms after `request-offer` left the page: `offer` received,',
    '`answer` sent (offer applied, answer created), ICE+DTLS `connected`, and the first frame\'s last packet received.',
    '',
    '| joins | n | TTFF p50 ms | p90 | min–max | offer | answer | connected | first frame received |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    ...(failures.length ? ['', `Failed joins: ${failures.join('; ')}`] : []),
  ].join('\n');
  const chart = distributionChart({
    title: 'Time to first frame (request-offer → first frame presented)',
    unit: 'ms',
    series: [
      ...CODECS.map((c) => ({ label: `${c} warm`, samples: warm[c]!.map((j) => j.firstFrame) })),
      ...CODECS.map((c) => ({ label: `${c} cold`, samples: cold[c]!.map((j) => j.firstFrame) })),
    ],
    target: { value: 250, label: 'target p50 < 250 ms' },
  });
  const medians = CODECS.map((c) => phases(warm[c]!).firstFrame.p50);
  return section(ctx, started, {
    name: 'ttff',
    title: 'Time to first frame',
    markdown,
    charts: [{ file: 'ttff.svg', svg: chart, alt: 'time to first frame per codec, warm and cold' }],
    figures: {
      warm: Object.fromEntries(CODECS.map((c) => [c, phases(warm[c]!)])),
      cold: Object.fromEntries(CODECS.map((c) => [c, phases(cold[c]!)])),
      samples: { warm, cold },
      failures,
    },
    targets: [
      {
        what: 'Time to first frame p50 (warm join)',
        target: '< 250 ms',
        measured: CODECS.map((c, i) => `${c} ${num(medians[i], 0)} ms (p90 ${num(phases(warm[c]!).firstFrame.p90, 0)})`).join(', '),
        met: medians.every((m) => Number.isFinite(m)) ? medians.every((m) => m < 250) : null,
      },
    ],
  });
}
