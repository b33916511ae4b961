/**
 * Input-to-photon: a click sent from headless Chromium on the painter's target (which toggles red ↔ blue
 * on every press it receives) → the first displayed frame showing the new colour. Clicks alternate
 * between the SDK (which uses the WebRTC data channel once open) and a plain WebSocket, side by side.
 * The painter logs when each press reached it, splitting each click into input → X client and
 * X client → displayed frame.
 */
import type { FrameSample } from '../page/agent.js';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { agentPage } from '../lib/browser.js';
import { OUT } from '../lib/paths.js';
import { num, sleep, summarize, type Summary } from '../lib/stats.js';
import { distributionChart } from '../lib/svg.js';
import { painterServer, readPainterLog } from './glass.js';

interface Click {
  via: 'sdk' | 'ws';
  sent: number;
  presented: number;
  received: number | null;
  pressAt: number | null;
}

interface PathFigures {
  n: number;
  total: Summary;
  /** Click sent → the painter got the ButtonPress. */
  toX: Summary;
  /** ButtonPress at the painter → frame presented. */
  toPhoton: Summary;
}

export async function runPhoton(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const sessions = ctx.quick ? 1 : 2;
  const clicksPerSession = ctx.quick ? 4 : 20;
  const clicks = sessions * clicksPerSession;
  const codec = 'H264';
  const results: Click[] = [];
  let dataChannel = true;
  let timeouts = 0;
  for (let session = 0; session < sessions; session++) {
    const logFile = `${OUT}/painter-photon-${session}.jsonl`;
    const server = await painterServer(30, logFile, ['--input', 'all']);
    const page = await agentPage(await ctx.browser(), server.url);
    const mine: Click[] = [];
    try {
      await page.evaluate((url) => window.agent.connect(url, 'bench-photon'), server.wsUrl);
      await page.evaluate((c) => window.agent.join(c, false), codec);
      dataChannel &&= await page.evaluate(() => window.agent.waitForDataChannel());
      await page.evaluate(() => window.agent.openRawSocket());
      await page.evaluate(() => window.agent.startFrames());
      await sleep(1000);
      for (let i = 0; i < clicksPerSession; i++) {
        const via: 'sdk' | 'ws' = i % 2 === 0 ? 'sdk' : 'ws';
        ctx.log(`input-to-photon session ${session + 1}/${sessions}, click ${i + 1}/${clicksPerSession} via ${via}`);
        const r = (await page.evaluate((v) => window.agent.clickAndWait(v), via)) as { sent: number; frame: FrameSample } | null;
        if (r) mine.push({ via, sent: r.sent, presented: r.frame.presented, received: r.frame.received, pressAt: null });
        else timeouts++;
        // Random spacing: clicks must not lock to the capture's phase.
        await sleep(250 + Math.random() * 250);
      }
      await page.evaluate(() => window.agent.stopFrames());
    } finally {
      await page.close().catch(() => undefined);
      await server.stop();
    }
    // Match presses to clicks: the first press between the click leaving and its frame being shown.
    const presses = readPainterLog(logFile).presses.filter((p) => p.inside);
    for (const c of mine) c.pressAt = presses.find((p) => p.at >= c.sent - 1 && p.at <= c.presented)?.at ?? null;
    results.push(...mine);
  }
  const figures = (via: 'sdk' | 'ws'): PathFigures => {
    const rs = results.filter((c) => c.via === via);
    return {
      n: rs.length,
      total: summarize(rs.map((c) => c.presented - c.sent)),
      toX: summarize(rs.filter((c) => c.pressAt !== null).map((c) => c.pressAt! - c.sent)),
      toPhoton: summarize(rs.filter((c) => c.pressAt !== null).map((c) => c.presented - c.pressAt!)),
    };
  };
  const sdk = figures('sdk');
  const ws = figures('ws');
  const all = summarize(results.map((c) => c.presented - c.sent));
  const row = (label: string, p: PathFigures): string =>
    `| ${label} | ${p.n} | **${num(p.total.p50)}** | ${num(p.total.p90)} | ${num(p.total.min)}–${num(p.total.max)} | ${num(p.toX.p50)} (p90 ${num(p.toX.p90)}) | ${num(p.toPhoton.p50)} |`;
  const markdown = [
    `Virtual desktop 1280×720 at 30 fps, ${codec}, the painter as the app (target toggles on each press). ${clicks} clicks in ${sessions} sessions (each its own server), 250–500 ms apart,`,
    `alternating paths. The SDK ${dataChannel ? 'had its "input" data channel open (input went over WebRTC)' : 'had NO data channel open (input fell back to the WebSocket)'}.`,
    '',
    '| path | clicks | click → photon p50 ms | p90 | min–max | click → X client got it p50 | X client → photon p50 |',
    '|---|---|---|---|---|---|---|',
    row('SDK (data channel)', sdk),
    row('WebSocket', ws),
    ...(timeouts ? ['', `${timeouts} clicks showed no colour change within 3 s.`] : []),
  ].join('\n');
  const chart = distributionChart({
    title: 'Input-to-photon (click sent → first frame showing its effect)',
    unit: 'ms',
    series: [
      { label: 'SDK / data channel', samples: results.filter((c) => c.via === 'sdk').map((c) => c.presented - c.sent) },
      { label: 'WebSocket', samples: results.filter((c) => c.via === 'ws').map((c) => c.presented - c.sent) },
    ],
    target: { value: 80, label: 'target p50 < 80 ms' },
  });
  return section(ctx, started, {
    name: 'photon',
    title: 'Input-to-photon latency',
    markdown,
    charts: [{ file: 'input-to-photon.svg', svg: chart, alt: 'input-to-photon latency by input path' }],
    figures: { sdk, ws, all, dataChannel, timeouts, clicks: results },
    targets: [
      {
        what: 'Input-to-photon p50',
        target: '< 80 ms',
        measured: `SDK/data channel ${num(sdk.total.p50)} ms, WebSocket ${num(ws.total.p50)} ms`,
        met: Number.isFinite(sdk.total.p50) ? sdk.total.p50 < 80 : null,
      },
    ],
  });
}
