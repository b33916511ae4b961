/**
 * WHEP with auth off (open, as /ws is) and an ICE server configured: a plain Chromium RTCPeerConnection that
 * prefers H.264 baseline (42001f, not the server's own 42e01f) gets H.264 at the source size, and the 201
 * carries the ICE server as a Link header.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser | undefined;

before(async () => {
  server = await startServer(['--resolution', '640x360', '--ice-servers', 'stun:127.0.0.1:3478']);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an offer preferring H.264 baseline gets H.264, decoded at the source size; Link names the ICE server', async () => {
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${server.url}/healthz`);
  const result = await page.evaluate(async (url) => {
    const pc = new RTCPeerConnection();
    const video = pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const codecs = RTCRtpReceiver.getCapabilities('video')!.codecs;
    const baseline = (c: RTCRtpCodec): boolean => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? '') && /profile-level-id=42001f/.test(c.sdpFmtpLine ?? '');
    video.setCodecPreferences([...codecs.filter(baseline), ...codecs.filter((c) => !baseline(c))]);
    await pc.setLocalDescription();
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      setTimeout(resolve, 2000);
    });
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const answer = await response.text();
    if (response.status !== 201) return { status: response.status, answer };
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = [...(await pc.getStats()).values()] as Record<string, unknown>[];
      const inbound = stats.find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
      if (inbound && Number(inbound.framesDecoded ?? 0) > 5 || Date.now() > deadline) {
        const codec = stats.find((s) => s.id === inbound?.codecId);
        const location = response.headers.get('location');
        pc.close();
        const deleted = location ? (await fetch(location, { method: 'DELETE' })).status : null;
        return { status: 201, link: response.headers.get('link'), width: inbound?.frameWidth, height: inbound?.frameHeight, mime: codec?.mimeType, deleted };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }, `${server.url}/whep`);
  assert.deepEqual(result, {
    status: 201,
    link: '<stun:127.0.0.1:3478>; rel="ice-server"',
    width: 640,
    height: 360,
    mime: 'video/H264',
    deleted: 200,
  });
});

test('a viewer whose browser vanishes without DELETE is closed by the server (disconnected, then the 30 s timeout)', async () => {
  browser ??= await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${server.url}/healthz`);
  const connected = await page.evaluate(async (url) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription();
    await new Promise((r) => setTimeout(r, 500));
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    const deadline = Date.now() + 20_000;
    while (pc.connectionState !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return pc.connectionState;
  }, `${server.url}/whep`);
  assert.equal(connected, 'connected');
  const count = async (): Promise<number> => ((await (await fetch(`${server.url}/healthz`)).json()) as { whep_viewers: number }).whep_viewers;
  assert.equal(await count(), 1);
  const started = Date.now();
  await page.close();
  const deadline = Date.now() + 75_000;
  while ((await count()) !== 0) {
    assert.ok(Date.now() < deadline, 'the abandoned viewer is still counted after 75 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(`abandoned WHEP viewer closed after ${Date.now() - started} ms\n`);
});
