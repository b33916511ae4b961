import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { MediaError, type VideoCodec } from '../../src/media/types.js';
import type { InboundRtp } from '../helpers/chromium.js';
import { BOTH, SMPTE_POINTS, eventually, looksLikeSmpteBars } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

const video = (inbound: InboundRtp[]): InboundRtp | undefined => inbound.find((entry) => entry.kind === 'video');
const audio = (inbound: InboundRtp[]): InboundRtp | undefined => inbound.find((entry) => entry.kind === 'audio');
// Chromium can count a decoded frame one stats sample before it reports the frame's size.
const decoding = (inbound: InboundRtp[]): boolean =>
  (video(inbound)?.framesDecoded ?? 0) > 0 && video(inbound)?.frameWidth !== undefined;

describe('server-offered media in headless Chromium', { timeout: 180_000 }, () => {
  let fixture: MediaFixture;
  before(async () => {
    fixture = await MediaFixture.start({ lingerMs: 1000 });
  });
  after(async () => {
    await fixture?.stop();
    assert.deepEqual(workerProcesses(), [], 'no pipeline worker outlives the service');
  });

  for (const codec of ['H264', 'VP8'] as const satisfies readonly VideoCodec[]) {
    test(`${codec}: the browser connects, decodes the source's size, gets audio, shows the SMPTE bars and a stream`, async () => {
      const { viewer, peer, session } = await fixture.watch({ ...BOTH, codecPreferences: [codec.toLowerCase()] });
      assert.equal(session.codec, codec);
      assert.match(session.offerSdp, /^a=msid:\S+ \S+/m, 'the offer names a stream (the seed client uses streams[0])');
      const inbound = await peer.waitForInbound((i) => decoding(i) && (audio(i)?.packetsReceived ?? 0) > 0);
      assert.equal(await peer.connectionState(), 'connected');
      assert.ok(decoding(inbound), 'frames decoded');
      assert.equal(video(inbound)?.codec, `video/${codec}`);
      assert.equal(video(inbound)?.frameWidth, SETTINGS.width);
      assert.equal(video(inbound)?.frameHeight, SETTINGS.height);
      assert.ok((audio(inbound)?.packetsReceived ?? 0) > 0, 'audio packets arrive');
      assert.equal(await peer.streamCount(), 1);
      assert.ok(
        await eventually(async () => looksLikeSmpteBars(await peer.videoPixels(SMPTE_POINTS))),
        `the picture shows the colour bars: ${JSON.stringify(await peer.videoPixels(SMPTE_POINTS))}`,
      );
      const stats = await viewer.stats();
      assert.equal(stats.connection_state, 'connected');
      assert.deepEqual((stats.video as Record<string, unknown>).codec, codec);
      assert.equal((stats.video as Record<string, unknown>).width, SETTINGS.width);
      assert.ok(((stats.video as Record<string, number>).packets_sent ?? 0) > 0);
      assert.ok(stats.selected_candidate_pair, 'a selected candidate pair is reported');
    });
  }

  test('video only: the offer has no audio and the browser decodes video', async () => {
    const { peer, session } = await fixture.watch({ video: true, audio: false, codecPreferences: ['H264'] });
    assert.doesNotMatch(session.offerSdp, /^m=audio/m);
    const inbound = await peer.waitForInbound(decoding);
    assert.ok(decoding(inbound));
    assert.equal(audio(inbound), undefined);
  });

  test('audio only: the offer has no video, no codec is chosen, and audio packets arrive', async () => {
    const { peer, session } = await fixture.watch({ video: false, audio: true, codecPreferences: ['H264'] });
    assert.equal(session.codec, null);
    assert.doesNotMatch(session.offerSdp, /^m=video/m);
    const inbound = await peer.waitForInbound((i) => (audio(i)?.packetsReceived ?? 0) > 0);
    assert.ok((audio(inbound)?.packetsReceived ?? 0) > 0);
    assert.equal(video(inbound), undefined);
  });

  test('a request for codecs the server lacks is refused with UNSUPPORTED_CODEC, and the viewer stays usable', async () => {
    const viewer = fixture.service.createViewer('unsupported');
    try {
      await assert.rejects(viewer.createOffer({ ...BOTH, codecPreferences: ['AV1', 'VP9'] }), (err: unknown) => {
        assert.ok(err instanceof MediaError);
        assert.equal(err.code, 'UNSUPPORTED_CODEC');
        return true;
      });
      await assert.rejects(viewer.applyAnswer('v=0'), { code: 'NO_ACTIVE_SESSION' });
      const offer = await viewer.createOffer({ ...BOTH, codecPreferences: ['VP9', 'vp8'] });
      assert.equal(offer.codec, 'VP8');
    } finally {
      viewer.close();
    }
  });

  test('text sent on the "input" data channel comes out as datachannel-message', async () => {
    const { viewer, peer } = await fixture.watch({ video: false, audio: true, codecPreferences: [] });
    const received = once(viewer, 'datachannel-message');
    await peer.sendOnChannel('input', '{"type":"mouse-move","x":1,"y":2}');
    assert.deepEqual(await received, ['{"type":"mouse-move","x":1,"y":2}']);
  });

  test('a second offer renegotiates with an ICE restart and the picture keeps coming', async () => {
    const { peer, session } = await fixture.watch({ ...BOTH, codecPreferences: ['VP8'] });
    await peer.waitForInbound(decoding);
    const ufrag = (sdp: string): string | undefined => sdp.match(/^a=ice-ufrag:(\S+)/m)?.[1];
    const before = ufrag(session.offerSdp);
    await session.renegotiate();
    assert.notEqual(ufrag(session.offerSdp), before, 'new ICE credentials');
    const decodedAfter = video(await peer.inboundRtp())?.framesDecoded ?? 0;
    const inbound = await peer.waitForInbound((i) => (video(i)?.framesDecoded ?? 0) > decodedAfter + 30);
    assert.ok((video(inbound)?.framesDecoded ?? 0) > decodedAfter + 30, 'frames keep being decoded');
    assert.equal(await peer.connectionState(), 'connected');
  });

  test('renegotiating with other codec preferences switches the viewer to that encoder', async () => {
    const { peer, session } = await fixture.watch({ ...BOTH, codecPreferences: ['VP8'] });
    await peer.waitForInbound(decoding);
    await session.renegotiate({ ...BOTH, codecPreferences: ['H264'] });
    assert.equal(session.codec, 'H264');
    const inbound = await peer.waitForInbound((i) => video(i)?.codec === 'video/H264' && decoding(i));
    assert.equal(video(inbound)?.codec, 'video/H264');
    const decodedAfter = video(inbound)?.framesDecoded ?? 0;
    const later = await peer.waitForInbound((i) => (video(i)?.framesDecoded ?? 0) > decodedAfter + 30);
    assert.ok((video(later)?.framesDecoded ?? 0) > decodedAfter + 30, 'H.264 frames keep being decoded');
  });

  test('five viewers of one source all decode from one encoder process', async () => {
    const watchers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => fixture.watch({ ...BOTH, codecPreferences: ['H264'] }, `five-${i}`)),
    );
    for (const [i, { peer }] of watchers.entries()) {
      assert.ok(decoding(await peer.waitForInbound(decoding)), `viewer ${i} decodes`);
    }
    const h264Workers = workerProcesses().filter((worker) => worker.args.includes('x264enc'));
    assert.equal(h264Workers.length, 1, 'one H.264 encoder process');
    const pipelines = fixture.service.pipelineStats().pipelines as { stream: string; viewers: number; pid: number }[];
    const h264 = pipelines.find((pipeline) => pipeline.stream === 'test/H264');
    assert.ok(h264 && h264.viewers >= 5, 'the encoder serves all five');
    assert.equal(h264.pid, h264Workers[0]?.pid);
  });
});
