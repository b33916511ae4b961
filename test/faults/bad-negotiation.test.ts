import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { BrowserPeer, launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { playOverSignaling } from '../helpers/signaled-browser.js';

let server: TestServer;
let browser: Browser;
before(async () => {
  server = await startServer(['--resolution', '320x180']);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('invalid SDP, an answer to another offer, and candidates for unknown media sections get INVALID_SDP; the session then negotiates and plays', async () => {
  const peer = await WsPeer.open(server.wsUrl);
  await peer.hello();
  const first = await peer.reply(peer.request('request-offer', { constraints: { video: true, audio: true } }));
  assert.equal(first.type, 'offer');

  const garbage = await peer.reply(peer.request('answer', { sdp: { type: 'answer', sdp: 'this is not sdp' } }));
  assert.equal(garbage.error.code, 'INVALID_SDP');

  // A real answer, but to an offer with other media sections (video only): wrong for this session's offer.
  const other = await WsPeer.open(server.wsUrl);
  await other.hello();
  const otherOffer = await other.reply(other.request('request-offer', { constraints: { video: true, audio: false } }));
  const stranger = await BrowserPeer.open(browser);
  const strangersAnswer = await stranger.answer(otherOffer.data.sdp.sdp);
  const wrong = await peer.reply(peer.request('answer', { sdp: { type: 'answer', sdp: strangersAnswer } }));
  assert.equal(wrong.error.code, 'INVALID_SDP');
  assert.match(wrong.error.details, /media sections|a=mid/);

  const unknownMid = await peer.reply(peer.request('ice-candidate', { candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '7', sdpMLineIndex: 7 } }));
  assert.equal(unknownMid.error.code, 'INVALID_SDP');
  assert.match(unknownMid.error.details, /sdpMid "7"/);
  const malformed = await peer.reply(peer.request('ice-candidate', { candidate: { candidate: 'candidate:garbage', sdpMid: '0' } }));
  assert.equal(malformed.error.code, 'INVALID_SDP');

  // Still usable: a browser answers this session's offer and decodes video.
  await playOverSignaling(peer, await BrowserPeer.open(browser));
  assert.equal(peer.received.filter((m) => m.type === 'error').length, 0, 'no stray errors');
  peer.close();
  other.close();
});
