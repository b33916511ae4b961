/** Reading WHEP input before any peer connection exists: the offer's codec choice and trickle fragments. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OfferProblem, readOffer } from '../../src/media/whep-offer.js';
import { readSdpFragment } from '../../src/http/whep-sdpfrag.js';

function offer(video: string[], audio = ['a=rtpmap:111 opus/48000/2']): string {
  const pts = (lines: string[]): string => lines.map((line) => /^a=rtpmap:(\d+)/.exec(line)?.[1]).filter(Boolean).join(' ');
  const videoRtpmaps = video.filter((line) => line.startsWith('a=rtpmap:'));
  return [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
    `m=video 9 UDP/TLS/RTP/SAVPF ${pts(videoRtpmaps)}`, 'a=mid:0', 'a=ice-ufrag:uf01', 'a=recvonly', ...video,
    `m=audio 9 UDP/TLS/RTP/SAVPF ${pts(audio)}`, 'a=mid:1', 'a=recvonly', ...audio, '',
  ].join('\r\n');
}

test("the offer's order decides the codec: the first the server can encode", () => {
  const vp8First = offer(['a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=42e01f']);
  assert.equal(readOffer(vp8First, ['H264', 'VP8']).video, 'VP8');
  const h264First = offer(['a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=42001f', 'a=rtpmap:96 VP8/90000']);
  assert.deepEqual(
    { ...readOffer(h264First, ['H264', 'VP8']), iceUfrag: undefined },
    { video: 'H264', h264ProfileLevelId: '42001f', audio: true, iceUfrag: undefined },
  );
  assert.equal(readOffer(h264First, ['VP8']).video, 'VP8', 'a codec the server lacks is passed over');
  assert.equal(readOffer(h264First, ['H264']).iceUfrag, 'uf01');
});

test('H.264 must be packetization-mode 1 and fit constrained baseline; VP9/AV1-only offers are not acceptable', () => {
  const modeZero = offer(['a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=0;profile-level-id=42e01f']);
  assert.equal(readOffer(modeZero, ['H264']).video, 'none-acceptable');
  const high = offer(['a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=640034']);
  assert.equal(readOffer(high, ['H264']).video, 'none-acceptable');
  const mainConstrained = offer(['a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1;profile-level-id=4d401f']);
  assert.equal(readOffer(mainConstrained, ['H264']).video, 'H264', 'constraint_set1: a constrained-baseline stream decodes');
  const vp9 = offer(['a=rtpmap:98 VP9/90000', 'a=rtpmap:45 AV1/90000']);
  assert.equal(readOffer(vp9, ['H264', 'VP8']).video, 'none-acceptable');
});

test('audio is sent only when the offer takes Opus; what is not an offer is a problem naming itself', () => {
  assert.equal(readOffer(offer(['a=rtpmap:96 VP8/90000'], ['a=rtpmap:0 PCMU/8000']), ['VP8']).audio, false);
  assert.throws(() => readOffer('hello', ['VP8']), (err: unknown) => err instanceof OfferProblem && /v=0/.test(err.message));
  assert.throws(() => readOffer('v=0\r\ns=-\r\n', ['VP8']), /no media section/);
  assert.throws(() => readOffer(offer(['a=rtpmap:96 VP8/90000']).replace('a=ice-ufrag:uf01\r\n', ''), ['VP8']), /ice-ufrag/);
});

test('a trickle fragment gives its credentials and each candidate with its media section', () => {
  const fragment = readSdpFragment(
    ['a=ice-ufrag:uf01', 'a=ice-pwd:pw', 'm=audio 9 RTP/AVP 0', 'a=mid:0', 'a=candidate:1 1 udp 1 127.0.0.1 5000 typ host', 'm=video 9 RTP/AVP 0', 'a=mid:1', 'a=candidate:2 1 udp 1 127.0.0.1 5002 typ host', 'a=end-of-candidates'].join('\r\n'),
  );
  assert.deepEqual(fragment, {
    iceUfrag: 'uf01',
    icePwd: 'pw',
    candidates: [
      { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' },
      { candidate: 'candidate:2 1 udp 1 127.0.0.1 5002 typ host', sdpMid: '1' },
    ],
  });
  assert.match(readSdpFragment('a=candidate:1 1 udp') as string, /malformed candidate/);
  assert.match(readSdpFragment('<html>') as string, /not an SDP line/);
});
