/**
 * TURN REST credentials against a real coturn (`use-auth-secret` + `static-auth-secret`): the server, given the
 * same secret (--turn-secret) and a bare turn: URL, hands each viewer credentials in its welcome and uses its
 * own for its peers. A relay-only Chromium plays through coturn with them; coturn refuses a wrong secret and an
 * expired username.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { LabViewer, launchLabChromium } from '../helpers/netlab/browser.js';
import { NetLab } from '../helpers/netlab/lab.js';
import { fpsLine, summarize } from '../helpers/netlab/playback.js';
import { PROFILES } from '../helpers/netlab/profiles.js';
import { startLabServer, type LabServer } from '../helpers/netlab/server.js';
import { startLabTurn, type LabTurn } from '../helpers/netlab/turn.js';

const SECRET = 'coturn-static-auth-secret-for-tests';
const TTL_MS = 600_000;

/** The TURN REST password, written here from the draft rather than taken from the server's code. */
const restPassword = (secret: string, username: string): string => createHmac('sha1', secret).update(username).digest('base64');

describe('TURN REST credentials with coturn use-auth-secret', { timeout: 240_000 }, () => {
  let lab: NetLab;
  let turn: LabTurn;
  let server: LabServer;
  let browser: Browser;
  let viewer: LabViewer;
  before(async () => {
    lab = await NetLab.create();
    await lab.apply(PROFILES.lan);
    turn = await startLabTurn(lab, { authSecret: SECRET });
    server = await startLabServer(lab, [
      '--source', 'test',
      '--ice-servers', JSON.stringify(turn.iceServers),
      '--turn-secret', SECRET,
      '--turn-ttl', String(TTL_MS),
    ]);
    browser = await launchLabChromium(lab);
    viewer = await LabViewer.open(browser, server.url, server.wsUrl, { codec: 'H264', relayOnly: true });
  });
  after(async () => {
    await viewer?.close();
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  test('the welcome carries <expiry>:<session> and its HMAC; the secret stays out of it', async () => {
    const servers = await viewer.welcomeIceServers();
    const sessionId = await viewer.page.evaluate(() => window.netlab.sessionId());
    assert.equal(servers.length, 1, JSON.stringify(servers));
    const [entry] = servers;
    assert.equal(entry!.urls, turn.iceServers[0]!.urls);
    const match = /^(\d+):(.+)$/.exec(entry!.username ?? '');
    assert.ok(match, `username ${entry!.username}`);
    const expiry = Number(match[1]) * 1000;
    assert.ok(Math.abs(expiry - (Date.now() + TTL_MS)) < 60_000, `expiry ${new Date(expiry).toISOString()}, expected about ${TTL_MS} ms from now`);
    assert.equal(match[2], sessionId);
    assert.equal(entry!.credential, restPassword(SECRET, entry!.username!));
    assert.ok(!JSON.stringify(servers).includes(SECRET));
  });

  test('relay-only Chromium plays through coturn; the server gathered its own relay candidate', async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const pair = await viewer.selectedPair();
    const summary = summarize(await viewer.samples(), 3000);
    t.diagnostic(`selected pair ${JSON.stringify(pair)}; fps per second ${fpsLine(summary.seconds)}`);
    assert.equal(pair?.local, 'relay', `selected pair ${JSON.stringify(pair)}; turnserver log:\n${turn.log().slice(-3000)}`);
    // Functional, not a speed bound (the bench measures that; this machine runs at load 30 at times): video decodes.
    const decoded = summary.seconds.reduce((sum, second) => sum + second.fps, 0);
    assert.ok(decoded > 30, `${decoded} frames decoded through the relay: ${fpsLine(summary.seconds)}`);
    // The browser and the server's own peer both allocate under the session's username: two allocations.
    const sessionId = await viewer.page.evaluate(() => window.netlab.sessionId());
    const allocations = turn.log().split('\n').filter((line) => line.includes(`:${sessionId}>`) && /ALLOCATE processed, success/.test(line));
    assert.ok(allocations.length >= 2, `expected the browser's and the server's allocations; turnserver log:\n${turn.log().slice(-4000)}`);
  });

  test('WHEP: the 201\'s Link header carries credentials minted for that WHEP session', async () => {
    const reply = await viewer.page.evaluate(async (url) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription();
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
      pc.close();
      const location = response.headers.get('location');
      if (location) await fetch(location, { method: 'DELETE' });
      return { status: response.status, link: response.headers.get('link'), location };
    }, `${server.url}/whep`);
    assert.equal(reply.status, 201, JSON.stringify(reply));
    const match = /^<([^>]+)>; rel="ice-server"; username="(\d+):([^"]+)"; credential="([^"]+)"; credential-type="password"$/.exec(reply.link ?? '');
    assert.ok(match, `Link: ${reply.link}`);
    assert.equal(match[1], turn.iceServers[0]!.urls);
    assert.equal(reply.location, `/whep/resource/${match[3]}`, 'the user part is the WHEP session');
    assert.equal(match[4], restPassword(SECRET, `${match[2]}:${match[3]}`));
  });

  test('coturn refuses a wrong secret and an expired username, and accepts a fresh one', async () => {
    const urls = turn.iceServers[0]!.urls;
    const fresh = `${Math.floor(Date.now() / 1000) + 600}:probe`;
    const expired = `${Math.floor(Date.now() / 1000) - 60}:probe`;
    const good = await viewer.relayCandidates([{ urls, username: fresh, credential: restPassword(SECRET, fresh) }]);
    const wrong = await viewer.relayCandidates([{ urls, username: fresh, credential: restPassword('not-the-secret-at-all', fresh) }]);
    const stale = await viewer.relayCandidates([{ urls, username: expired, credential: restPassword(SECRET, expired) }]);
    assert.ok(good.length > 0, `no relay candidate with fresh credentials; turnserver log:\n${turn.log().slice(-3000)}`);
    assert.deepEqual(wrong, [], 'a wrong secret got a relay candidate');
    assert.deepEqual(stale, [], 'an expired username got a relay candidate');
    assert.match(turn.log(), /401/, 'coturn logged no 401');
  });
});
