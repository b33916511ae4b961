/**
 * A new viewer's first keyframe is asked for when ICE connects (and kept until DTLS is up: src/media/video-join.ts),
 * not when werift says `connected`, which waits for the DTLS handshake and the data channel's SCTP association as
 * well (src/media/dtls-ready.ts). The answering peer is werift in Node.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RTCPeerConnection } from 'werift';
import { videoCodecParameters } from '../../src/media/codec-parameters.js';
import { GstreamerMediaService } from '../../src/media/gstreamer-media-service.js';
import { withoutDefaultStun } from '../../src/media/peer-connection-lifecycle.js';
import { SETTINGS } from './media-fixture.js';

test("the first keyframe is asked for once, before the viewer's peer connection is connected (DTLS and SCTP included)", { timeout: 60_000 }, async (t) => {
  const service = await GstreamerMediaService.create(SETTINGS);
  const viewer = service.createViewer('dtls-ready');
  // The answerer decodes what the server sends: werift's defaults have no H.264.
  const peer = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], codecs: { video: [videoCodecParameters('H264', true)] } });
  t.after(async () => {
    viewer.close();
    await peer.close();
    await service.stop();
  });
  const requested = (): number => service.streamStats().find((s) => s.kind === 'video')?.keyframesRequested ?? 0;
  const { sdp } = await viewer.createOffer({ video: true, audio: false, codecPreferences: ['H264'] });
  await peer.setRemoteDescription({ type: 'offer', sdp });
  const answer = await peer.createAnswer();
  withoutDefaultStun(peer, []);
  await peer.setLocalDescription(answer);
  const atConnected = new Promise<number>((resolve) => viewer.on('state', (state) => state === 'connected' && resolve(requested())));
  assert.equal(requested(), 0, 'nothing asked for before the handshake');
  await viewer.applyAnswer(peer.localDescription!.sdp);
  assert.equal(await atConnected, 1, 'asked for once, already when ICE connected');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(requested(), 1, 'not asked again at connected');
});
