/**
 * A WeriftViewer on a host without encoders: offers with the input data channel only, enough to check
 * what the viewer does with candidates before any media is involved.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { sdpMids } from '../../src/media/sdp-checks.js';
import type { MediaSettings, OfferRequest } from '../../src/media/types.js';
import { WeriftViewer, type ViewerHost } from '../../src/media/werift-viewer.js';
import type { IceCandidate } from '../../src/protocol/index.js';
import { SETTINGS } from './media-fixture.js';

const NO_MEDIA: OfferRequest = { video: false, audio: false, codecPreferences: [] };

function viewerWithoutEncoders(settings: MediaSettings = SETTINGS): WeriftViewer {
  const none = (): Promise<never> => Promise.reject(new Error('this test has no encoders'));
  const host: ViewerHost = { codecs: ['H264'], audio: true, settings, videoPipeline: none, audioPipeline: none, released: () => undefined };
  return new WeriftViewer('test-session', host);
}

test('remote candidates before the answer are capped at 64: the 65th is refused with INVALID_MESSAGE', async (t) => {
  const viewer = viewerWithoutEncoders();
  t.after(() => viewer.close());
  const { sdp } = await viewer.createOffer(NO_MEDIA);
  const [mid] = sdpMids(sdp);
  const candidate = (i: number): IceCandidate => ({
    candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${40000 + i} typ host`,
    sdpMid: mid ?? null,
    sdpMLineIndex: 0,
  });
  for (let i = 0; i < 64; i++) await viewer.addRemoteCandidate(candidate(i));
  await assert.rejects(viewer.addRemoteCandidate(candidate(64)), {
    name: 'MediaError',
    code: 'INVALID_MESSAGE',
    message: 'too many ICE candidates before the answer',
    details: 'max 64 candidates before the answer',
  });
  // A new offer starts a new wait for its answer, with a queue of its own.
  await viewer.createOffer(NO_MEDIA);
  await viewer.addRemoteCandidate(candidate(65));
});

test('a gathering that ends after a newer offer does not send end-of-candidates for the newer ICE generation', { timeout: 20_000 }, async (t) => {
  // A STUN server that never answers holds the first gathering open for werift's STUN timeout (2 s), so it
  // ends after the second offer (an ICE restart) has been made.
  const silentStun = createSocket('udp4');
  silentStun.bind(0, '127.0.0.1');
  await once(silentStun, 'listening');
  const viewer = viewerWithoutEncoders({ ...SETTINGS, iceServers: [{ urls: `stun:127.0.0.1:${silentStun.address().port}` }] });
  t.after(() => {
    viewer.close();
    silentStun.close();
  });
  let ends = 0;
  const first = await viewer.createOffer(NO_MEDIA);
  assert.doesNotMatch(first.sdp, /a=end-of-candidates/, 'the first offer left while gathering');
  const second = await viewer.createOffer(NO_MEDIA);
  viewer.on('candidate', (candidate) => {
    if (candidate.candidate === '') ends++;
  });
  await new Promise((resolve) => setTimeout(resolve, 3500));
  // werift re-gathers nothing new on a restart, so the second offer usually carries its own end marker.
  const expected = second.sdp.includes('a=end-of-candidates') ? 0 : 1;
  assert.equal(ends, expected, 'end-of-candidates only for the second offer, once');
});
