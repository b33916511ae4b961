/**
 * Rate control through the network lab: the real server at the default `--bitrate 2500` (adaptive), Chromium
 * behind a shaped link. On 1 Mbit/s the stream used to die (docs/rate-control.md); now the encoder follows the
 * viewer's estimate, and climbs back when the link does. Bounds are functional and generous: the machine is
 * shared and the lab's bridge is Python.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { percentile } from '../../bench/lib/stats.js';
import { LabViewer, launchLabChromium } from '../helpers/netlab/browser.js';
import { NetLab } from '../helpers/netlab/lab.js';
import { fpsLine, summarize, type Second } from '../helpers/netlab/playback.js';
import { PROFILES } from '../helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../helpers/netlab/server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const NARROW_KBIT = 1000;

function meanKbps(seconds: readonly Second[]): number {
  return seconds.reduce((sum, s) => sum + s.kbps, 0) / Math.max(1, seconds.length);
}

describe('adaptive bitrate through the network lab', { timeout: 300_000 }, () => {
  let lab: NetLab;
  let server: LabServer;
  let browser: Browser;
  before(async () => {
    lab = await NetLab.create();
    server = await startLabServer(lab, ['--source', 'test', '--resolution', '1280x720', '--framerate', '30', '--log-level', 'debug']);
    browser = await launchLabChromium(lab);
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  /** The encoder bitrate the server's /metrics shows, read from the browser's side of the link. */
  async function encoderKbps(viewer: LabViewer): Promise<string> {
    const text = await viewer.page.evaluate(() => fetch('/metrics').then((r) => r.text())).catch((err: Error) => err.message);
    return text.split('\n').filter((line) => /^streamgate_media_(encoder_bitrate_kbps|viewer_estimate_kbps_sum)/.test(line)).join('; ');
  }

  test('on a 1 Mbit/s link the bitrate settles under the link and frames keep decoding; at 5 Mbit/s it climbs back', async (t) => {
    await lab.apply(PROFILES.narrow);
    const viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: 'H264' });
    try {
      await sleep(30_000);
      const narrow = summarize(await viewer.samples(), 10_000);
      t.diagnostic(`narrow: fps ${fpsLine(narrow.seconds)}`);
      t.diagnostic(`narrow: ${narrow.meanKbps.toFixed(0)} kbit/s, ${narrow.packetsLost} lost of ${narrow.packetsReceived + narrow.packetsLost}, ${narrow.nacks} NACK, ${narrow.plis} PLI, ${narrow.freezeCount} freezes; ${await encoderKbps(viewer)}`);
      const fps = narrow.seconds.map((s) => s.fps).sort((a, b) => a - b);
      assert.ok(percentile(fps, 50) > 15, `median fps after the first 10 s on 1 Mbit/s: ${fpsLine(narrow.seconds)}`);
      assert.ok(narrow.meanKbps < NARROW_KBIT, `received ${narrow.meanKbps.toFixed(0)} kbit/s on a ${NARROW_KBIT} kbit/s link`);
      const lossShare = narrow.packetsLost / Math.max(1, narrow.packetsReceived + narrow.packetsLost);
      assert.ok(lossShare < 0.1, `loss ${(lossShare * 100).toFixed(1)} % after settling (fixed 2500 kbit/s lost 53 %)`);

      const recoveredAtMs = (await viewer.samples()).at(-1)!.atMs;
      await lab.setRate('down', 5000);
      await lab.setRate('up', 5000);
      await sleep(20_000);
      const recovered = summarize(await viewer.samples(), recoveredAtMs);
      t.diagnostic(`after recovery: kbit/s per second ${recovered.seconds.map((s) => s.kbps.toFixed(0)).join(' ')}; ${await encoderKbps(viewer)}`);
      const late = meanKbps(recovered.seconds.slice(-8));
      assert.ok(late > 1.4 * narrow.meanKbps, `bitrate climbs back: ${late.toFixed(0)} kbit/s in the last 8 s against ${narrow.meanKbps.toFixed(0)} on 1 Mbit/s`);
      const recoveredFps = recovered.seconds.map((s) => s.fps).sort((a, b) => a - b);
      assert.ok(percentile(recoveredFps, 50) > 15, `fps after recovery: ${fpsLine(recovered.seconds)}`);
    } finally {
      // The server's debug log has each change of the encoder's bitrate, with the estimate behind it.
      const changes = server.logs.filter((entry) => entry.module === 'media.rate');
      t.diagnostic(`encoder kbit/s as set: ${changes.map((entry) => entry.kbps).join(' ')}`);
      await viewer.close();
      await lab.apply(PROFILES.lan);
    }
  });
});
