/**
 * Two viewers of one server on different links (issue 11): with `--adaptive-bitrate ladder` the viewer
 * behind a 1 Mbit/s link moves down to a rung of its own (docs/rate-control.md, "The ladder"), while the one
 * on the unshaped link keeps the full picture at the full bitrate. Each viewer is a Chromium in its own
 * browser namespace, on its own link of the lab (its own bridge.py and tbf). Rungs are read from the
 * server's `stats` message as the SDK hands it to the page; bitrates, sizes and frames from each browser's
 * own `inbound-rtp`. Bounds are functional and generous: the machine is shared and the bridges are Python.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { percentile } from '../../bench/lib/stats.js';
import { LabViewer, launchLabChromium } from '../helpers/netlab/browser.js';
import { NetLab, type LabLink } from '../helpers/netlab/lab.js';
import { fpsLine, summarize } from '../helpers/netlab/playback.js';
import { PROFILES } from '../helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../helpers/netlab/server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const CEILING_KBIT = 2500;
const NARROW_KBIT = 1000;
const WIDTH = 1280;
const HEIGHT = 720;

/** The rung the server's `stats` message places a viewer on, or a note of why there is none. */
async function rungOf(viewer: LabViewer): Promise<string> {
  const video: Record<string, unknown> | null = await viewer.serverVideoStats().catch((err: Error) => ({ error: err.message }));
  const congestion = video?.congestion as { rung?: unknown } | null | undefined;
  return typeof congestion?.rung === 'string' ? congestion.rung : `none (${JSON.stringify(video)})`;
}

describe('two viewers on different links', { timeout: 300_000 }, () => {
  let lab: NetLab;
  let narrowLink: LabLink;
  let server: LabServer;
  let fastBrowser: Browser;
  let slowBrowser: Browser;
  before(async () => {
    lab = await NetLab.create();
    narrowLink = await lab.addBrowser();
    server = await startLabServer(lab, ['--source', 'test', '--resolution', `${WIDTH}x${HEIGHT}`, '--framerate', '30', '--bitrate', String(CEILING_KBIT), '--adaptive-bitrate', 'ladder', '--log-level', 'debug']);
    fastBrowser = await launchLabChromium(lab);
    slowBrowser = await launchLabChromium(lab, narrowLink.browser);
  });
  after(async () => {
    await fastBrowser?.close().catch(() => undefined);
    await slowBrowser?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  test('the viewer on 1 Mbit/s settles on a lower rung under its link while the one on lan keeps the full rung and picture', async (t) => {
    await lab.apply(PROFILES.lan);
    await narrowLink.apply(PROFILES.narrow);
    const fast = await LabViewer.open(fastBrowser, server.url, server.wsUrl, { codec: 'H264' });
    const slow = await LabViewer.open(slowBrowser, server.url, server.wsUrl, { codec: 'H264' });
    try {
      // Rungs as the server reports them, every 2 s: the narrow viewer's move takes its estimator's start
      // phase and the ladder's confirmation; the rest shows that it stays moved and the fast one stays put.
      const rungs: { fast: string; slow: string }[] = [];
      for (let i = 0; i < 20; i++) {
        await sleep(2000);
        rungs.push({ fast: await rungOf(fast), slow: await rungOf(slow) });
      }
      const fastPlay = summarize(await fast.samples(), 20_000);
      const slowPlay = summarize(await slow.samples(), 20_000);
      const late = rungs.slice(-5);
      t.diagnostic(`rungs fast/slow every 2 s: ${rungs.map((r) => `${r.fast}/${r.slow}`).join(' ')}`);
      t.diagnostic(`lan: ${fastPlay.meanKbps.toFixed(0)} kbit/s, ${fastPlay.width}x${fastPlay.height}, fps ${fpsLine(fastPlay.seconds)}`);
      t.diagnostic(`narrow: ${slowPlay.meanKbps.toFixed(0)} kbit/s, ${slowPlay.width}x${slowPlay.height}, fps ${fpsLine(slowPlay.seconds)}, ${slowPlay.packetsLost} lost, ${slowPlay.plis} PLI`);
      const counts = await Promise.all(lab.links.map((link) => link.bridgeCounts()));
      t.diagnostic(`frames forwarded down per link: ${counts.map((c) => c.down.forwarded).join(', ')}; tbf drops on narrow: ${await narrowLink.queueDrops('down')}`);
      const metrics = await fast.page.evaluate(() => fetch('/metrics').then((r) => r.text()));
      const ladderLines = metrics.split('\n').filter((line) => /^streamgate_media_rung_(viewers|moves_total)\{/.test(line));
      t.diagnostic(`metrics: ${ladderLines.join('; ')}`);
      const changes = server.logs.filter((entry) => entry.module === 'media.rate');
      t.diagnostic(`encoder kbit/s as set: ${changes.map((entry) => `${String(entry.rung)}=${String(entry.kbps)}`).join(' ')}`);

      // Each viewer's media crossed its own link.
      assert.ok(counts.every((c) => c.down.forwarded > 1000), `frames forwarded down per link: ${counts.map((c) => c.down.forwarded).join(', ')}`);

      assert.ok(late.every((r) => r.slow === 'reduced' || r.slow === 'small'), `the narrow viewer settles on a lower rung: ${late.map((r) => r.slow).join(' ')}`);
      assert.ok(slowPlay.meanKbps < NARROW_KBIT, `narrow viewer received ${slowPlay.meanKbps.toFixed(0)} kbit/s on a ${NARROW_KBIT} kbit/s link`);
      // The small rung runs at half the frame rate: 15 fps is its full speed.
      const slowFps = slowPlay.seconds.map((s) => s.fps).sort((a, b) => a - b);
      assert.ok(percentile(slowFps, 50) > 8, `narrow viewer keeps decoding: fps ${fpsLine(slowPlay.seconds)}`);

      const movesDown = Number(/^streamgate_media_rung_moves_total\{direction="down"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
      assert.ok(movesDown >= 1, `the move down is counted: ${ladderLines.join('; ')}`);
      assert.match(metrics, /^streamgate_media_rung_viewers\{rung="full"\} 1$/m, 'one viewer on the full rung');

      assert.ok(late.every((r) => r.fast === 'full'), `the lan viewer stays on the full rung: ${late.map((r) => r.fast).join(' ')}`);
      assert.equal(`${fastPlay.width}x${fastPlay.height}`, `${WIDTH}x${HEIGHT}`, 'the lan viewer keeps the full picture');
      // The ladder keeps the two apart: the slow link does not drag the full rung down. How near the ceiling the
      // full rung runs is its own viewer's estimate (the top rung follows the best viewer): on this loaded host
      // the lan viewer's estimate dips too (docs/rate-control.md, "Measured in the lab"), so the bound is loose.
      assert.ok(fastPlay.meanKbps > 3 * slowPlay.meanKbps, `the lan viewer gets far more than the narrow one: ${fastPlay.meanKbps.toFixed(0)} against ${slowPlay.meanKbps.toFixed(0)} kbit/s`);
      assert.ok(fastPlay.meanKbps > 0.3 * CEILING_KBIT, `the lan viewer's bitrate: ${fastPlay.meanKbps.toFixed(0)} of ${CEILING_KBIT} kbit/s`);
      const fastFps = fastPlay.seconds.map((s) => s.fps).sort((a, b) => a - b);
      assert.ok(percentile(fastFps, 50) > 15, `lan viewer fps ${fpsLine(fastPlay.seconds)}`);
    } finally {
      await fast.close();
      await slow.close();
    }
  });
});
