/**
 * --public-ip and --udp-ports in the network lab. The server's namespace gets a second address, the "public"
 * one, and answers the browser from it (a route with that source address), as a host behind a 1:1 NAT whose
 * replies leave through the NAT: a check the browser sends to the private address is answered from the public
 * one, so only the public address forms a working pair. The offer must carry the public address, every port
 * must be in the range, and a session plays over the public address.
 *
 * Not shown here: that the session needs --public-ip. The server's own checks reach the browser from the public
 * address too (as through a real NAT), so the browser may pick that as a peer-reflexive candidate; the public
 * candidate is what works when the browser is behind a NAT of its own, which this lab (no iptables, no tc nat)
 * cannot build.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { LabViewer, launchLabChromium } from '../helpers/netlab/browser.js';
import { BROWSER_ADDRESS, NetLab } from '../helpers/netlab/lab.js';
import { fpsLine, summarize } from '../helpers/netlab/playback.js';
import { PROFILES } from '../helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../helpers/netlab/server.js';

/** From the lab's /24 (198.18.0.0/15, the benchmarking range), unused by it. */
const PUBLIC_ADDRESS = '198.18.0.10';
const PORTS = [40_000, 40_019] as const;

describe('--public-ip and --udp-ports in the network lab', { timeout: 180_000 }, () => {
  let lab: NetLab;
  let server: LabServer;
  let browser: Browser;
  let viewer: LabViewer;
  before(async () => {
    lab = await NetLab.create();
    await lab.apply(PROFILES.lan);
    await lab.exec('server', 'ip', ['addr', 'add', `${PUBLIC_ADDRESS}/32`, 'dev', 'sg0']);
    await lab.exec('server', 'ip', ['route', 'add', `${BROWSER_ADDRESS}/32`, 'dev', 'sg0', 'src', PUBLIC_ADDRESS]);
    server = await startLabServer(lab, ['--source', 'test', '--public-ip', PUBLIC_ADDRESS, '--udp-ports', `${PORTS[0]}-${PORTS[1]}`]);
    browser = await launchLabChromium(lab);
    viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: 'H264' });
  });
  after(async () => {
    await viewer?.close();
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  test('the server offers a host candidate on the public address, and every candidate port is in --udp-ports', async () => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const candidates = (await viewer.remoteCandidates()).filter((c) => c.type === 'host');
    assert.ok(candidates.some((c) => c.address === PUBLIC_ADDRESS), `no host candidate on ${PUBLIC_ADDRESS}: ${JSON.stringify(candidates)}`);
    const outside = candidates.filter((c) => c.port < PORTS[0] || c.port > PORTS[1]);
    assert.deepEqual(outside, [], `candidates outside ${PORTS.join('-')}`);
  });

  test('a session plays over the public address', async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const pair = await viewer.selectedPair();
    const summary = summarize(await viewer.samples(), 3000);
    t.diagnostic(`selected pair ${JSON.stringify(pair)}; fps per second ${fpsLine(summary.seconds)}`);
    t.diagnostic(`server candidates ${JSON.stringify(await viewer.remoteCandidates())}`);
    // Chromium hides a peer-reflexive candidate's address; every answer of the server comes from the public one.
    assert.ok(pair && (pair.remoteAddress === PUBLIC_ADDRESS || (pair.remote === 'prflx' && pair.remoteAddress === '')), `selected pair ${JSON.stringify(pair)}`);
    assert.ok(pair.remotePort >= PORTS[0] && pair.remotePort <= PORTS[1], `selected pair ${JSON.stringify(pair)}`);
    const decoded = summary.seconds.reduce((sum, second) => sum + second.fps, 0);
    assert.ok(decoded > 30, `${decoded} frames decoded: ${fpsLine(summary.seconds)}`);
  });
});
