/**
 * Chromium sends its DTLS ClientHello as soon as one of its ICE checks is answered, which werift does before it has
 * even applied the answer; werift's DTLS server exists only once its own checks are done and dropped that hello, so
 * the handshake waited for Chromium's retransmission (src/media/early-dtls.ts). Here the answer reaches werift
 * 400 ms after Chromium applied it: the hello is certainly early, and must be handed over, not lost. The server then
 * answers it with its ServerHello at once, without a HelloVerifyRequest (src/media/dtls-without-cookie.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RTCPeerConnection } from 'werift';
import { keepEarlyDtls } from '../../src/media/early-dtls.js';
import { withoutDefaultStun } from '../../src/media/peer-connection-lifecycle.js';
import { launchChromium } from '../helpers/chromium.js';

test('a ClientHello that comes before werift starts its DTLS server is handed to it when it starts', { timeout: 60_000 }, async (t) => {
  const browser = await launchChromium();
  const server = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });
  t.after(async () => {
    await server.close();
    await browser.close();
  });
  server.addTransceiver('video', { direction: 'sendonly' });
  server.createDataChannel('early');
  const offer = await server.createOffer();
  withoutDefaultStun(server, []);
  await server.setLocalDescription(offer);
  const replayed: number[] = [];
  keepEarlyDtls(server, (packets) => replayed.push(packets));
  // The handshake message types werift sends: a plaintext DTLS record (type 22) has its first message's type at byte 13.
  const sentTypes = new Set<number>();
  const connection = server.dtlsTransports[0]!.iceTransport.connection;
  const send = connection.send.bind(connection);
  connection.send = (data: Buffer) => {
    if (data[0] === 22 && data.length > 13) sentTypes.add(data[13]!);
    return send(data);
  };

  const page = await browser.newPage();
  const answer = await page.evaluate(async (sdp) => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });
    return pc.localDescription!.sdp;
  }, server.localDescription!.sdp);
  // Chromium checks werift's candidates and, answered, says hello; werift does not know the answer yet.
  await page.waitForFunction(() => (window as unknown as { pc: RTCPeerConnection }).pc.iceConnectionState === 'connected', null, { timeout: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 400));
  const connected = new Promise<void>((resolve) => server.connectionStateChange.subscribe((state) => state === 'connected' && resolve()));
  await server.setRemoteDescription({ type: 'answer', sdp: answer });
  await connected;
  assert.equal(replayed.length, 1, 'the early packets were handed over once');
  assert.ok(replayed[0]! >= 1, `at least the ClientHello was kept (${replayed[0]})`);
  assert.ok(sentTypes.has(2), `a ServerHello was sent (types ${[...sentTypes].join(', ')})`);
  assert.ok(!sentTypes.has(3), 'no HelloVerifyRequest: the first hello was answered directly');
  const dtls = await page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.connectionState);
  assert.equal(dtls, 'connected', 'Chromium finished the handshake too');
});
