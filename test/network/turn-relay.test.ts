/**
 * A TURN relay in the lab: coturn beside the server, handed to viewers with --ice-servers; the browser,
 * limited to relay candidates (the SDK's rtcConfig `iceTransportPolicy: "relay"`), connects through it
 * and decodes video.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { LabViewer, launchLabChromium } from '../helpers/netlab/browser.js';
import { NetLab } from '../helpers/netlab/lab.js';
import { fpsLine, summarize } from '../helpers/netlab/playback.js';
import { PROFILES } from '../helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../helpers/netlab/server.js';
import { startLabTurn, type LabTurn } from '../helpers/netlab/turn.js';

describe('TURN relay in the network lab', { timeout: 180_000 }, () => {
  let lab: NetLab;
  let turn: LabTurn;
  let server: LabServer;
  let browser: Browser;
  before(async () => {
    lab = await NetLab.create();
    await lab.apply(PROFILES.dsl);
    turn = await startLabTurn(lab);
    server = await startLabServer(lab, ['--source', 'test', '--ice-servers', JSON.stringify(turn.iceServers)]);
    browser = await launchLabChromium(lab);
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  test('relay-only browser: the selected pair is a relay candidate and video decodes', async (t) => {
    const viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: 'H264', relayOnly: true });
    try {
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      const pair = await viewer.selectedPair();
      const summary = summarize(await viewer.samples(), 3000);
      t.diagnostic(`selected pair ${JSON.stringify(pair)}; fps per second ${fpsLine(summary.seconds)}; ${summary.meanKbps.toFixed(0)} kbit/s`);
      assert.equal(pair?.local, 'relay', `selected pair ${JSON.stringify(pair)}; turnserver log:\n${turn.log().slice(-3000)}`);
      // Functional, not a speed bound (the bench measures that; at load 50 the first frames took 7 s here).
      const decoded = summary.seconds.reduce((sum, second) => sum + second.fps, 0);
      assert.ok(decoded > 30, `${decoded} frames decoded through the relay: ${fpsLine(summary.seconds)}`);
      assert.match(turn.log(), /ALLOCATE/i, 'turnserver logged no allocation');
    } finally {
      await viewer.close();
    }
  });
});
