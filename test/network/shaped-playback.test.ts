/**
 * The lab end to end: the real server in the server namespace (`--source test`), headless Chromium in the
 * browser namespace watching through the SDK, every packet crossing the lab's bridge and shaper.
 * On `lan` the browser decodes at the source's rate. On a 1 Mbit/s link with today's default
 * `--bitrate 2500` the test only records what happens, second by second: it will assert adaptation once
 * the server adapts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { percentile } from '../../bench/lib/stats.js';
import { LabViewer, launchLabChromium } from '../helpers/netlab/browser.js';
import { NetLab } from '../helpers/netlab/lab.js';
import { fpsLine, summarize, type PlaybackSummary } from '../helpers/netlab/playback.js';
import { PROFILES, type LinkProfile } from '../helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../helpers/netlab/server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('playback through the network lab', { timeout: 300_000 }, () => {
  let lab: NetLab;
  let server: LabServer;
  let browser: Browser;
  before(async () => {
    lab = await NetLab.create();
    server = await startLabServer(lab, ['--source', 'test', '--resolution', '1280x720', '--framerate', '30']);
    browser = await launchLabChromium(lab);
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  /** Watches for `seconds` on `profile`; the first 3 s (connecting, first keyframe) are left out. */
  async function watch(profile: LinkProfile, seconds: number, t: { diagnostic(message: string): void }): Promise<PlaybackSummary> {
    await lab.apply(profile);
    const viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: 'H264' });
    try {
      await sleep((seconds + 3) * 1000);
      const summary = summarize(await viewer.samples(), 3000);
      t.diagnostic(`${profile.name}: fps per second ${fpsLine(summary.seconds)}`);
      t.diagnostic(`${profile.name}: ${summary.meanKbps.toFixed(0)} kbit/s, ${summary.packetsLost} lost, ${summary.nacks} NACK, ${summary.plis} PLI, ${summary.freezeCount} freezes (${summary.freezeSeconds.toFixed(1)} s), jitter buffer ${summary.meanJitterBufferMs.toFixed(0)} ms, ${summary.width}×${summary.height}`);
      return summary;
    } finally {
      await viewer.close();
    }
  }

  test('lan: Chromium in its own namespace decodes the server’s video at full rate', async (t) => {
    const summary = await watch(PROFILES.lan, 8, t);
    const fps = summary.seconds.map((s) => s.fps).sort((a, b) => a - b);
    assert.ok(percentile(fps, 50) > 20, `median ${percentile(fps, 50)} frames decoded per second on lan: ${fpsLine(summary.seconds)}`);
    assert.equal(summary.width, 1280);
  });

  test('1 Mbit/s link at the default --bitrate 2500: recorded, not judged', async (t) => {
    const summary = await watch(PROFILES.narrow, 15, t);
    assert.ok(summary.seconds.length >= 10, `only ${summary.seconds.length} seconds recorded`);
    t.diagnostic(`down queue: ${(await lab.queueStats('down')).replace(/\s+/g, ' ')}`);
  });
});
