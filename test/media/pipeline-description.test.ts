import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offerCodecs, pickCodec } from '../../src/media/capabilities.js';
import { answeredCodec } from '../../src/media/sdp-checks.js';
import { isMdnsCandidate, sdpCandidates, withCandidates } from '../../src/media/ice-candidates.js';
import { describePipeline, streamKey, type StreamSpec } from '../../src/media/pipeline-description.js';

const h264: StreamSpec = {
  kind: 'video',
  codec: 'H264',
  source: { kind: 'test' },
  width: 1280,
  height: 720,
  framerate: 30,
  bitrateKbps: 2000,
};
const RTP = { port: 1, ssrc: 1 };

test('H.264 is forced to I420 constrained baseline (what the offer promises) with a 3 s GOP', () => {
  const { launch, control } = describePipeline(h264, { port: 5004, ssrc: 7 });
  assert.match(launch, /video\/x-raw,format=I420 ! x264enc [^!]*key-int-max=90[^!]*! video\/x-h264,profile=constrained-baseline/);
  // One slice per frame: a lost top slice must not leave a decodable half IDR (docs/rate-control.md).
  assert.match(launch, /x264enc [^!]*sliced-threads=false threads=1/);
  assert.match(launch, /rtph264pay name=vpay config-interval=-1 aggregate-mode=none/);
  assert.match(launch, /udpsink host=127\.0\.0\.1 port=5004/);
  assert.match(launch, /rtph264pay [^!]*ssrc=7 /, 'the payloader sends with the SSRC it is given');
  assert.deepEqual(control, { encoder: 'venc', bitrateProperty: 'bitrate', unitsPerKbit: 1, keyUnitElement: 'vpay' });
});

test('VP8 sets its bitrate in bit/s; the X source captures the named display', () => {
  const { launch, control } = describePipeline({ ...h264, codec: 'VP8', source: { kind: 'x11', display: ':99' } }, { port: 5004, ssrc: 7 });
  assert.match(launch, /^ximagesrc name=vsrc display-name=:99 use-damage=false show-pointer=true ! videorate drop-only=true ! video\/x-raw,framerate=30\/1/);
  assert.equal(control?.pointerElement, 'vsrc', 'the worker switches the pointer on the capture element');
  assert.match(launch, /vp8enc [^!]*target-bitrate=2000000 keyframe-max-dist=90/);
  assert.match(launch, /rtpvp8pay [^!]*ssrc=7 /);
  assert.equal(control?.bitrateProperty, 'target-bitrate');
  assert.equal(control?.unitsPerKbit, 1000);
});

test('an X capture whose viewers all draw the cursor starts without the pointer', () => {
  const { launch } = describePipeline({ ...h264, source: { kind: 'x11', display: ':99' }, showPointer: false }, RTP);
  assert.match(launch, /^ximagesrc [^!]*show-pointer=false /);
});

test('audio is a tone for the test source, the PulseAudio monitor for X with a server, silence for X without; no video control', () => {
  const tone = describePipeline({ kind: 'audio', source: { kind: 'test' } }, RTP);
  const silence = describePipeline({ kind: 'audio', source: { kind: 'x11', display: ':1' } }, RTP);
  const desktop = describePipeline({ kind: 'audio', source: { kind: 'x11', display: ':1', audio: { server: 'unix:/tmp/sg/native', device: 'streamgate.monitor' } } }, RTP);
  assert.match(tone.launch, /wave=sine .* opusenc .* rtpopuspay [^!]*ssrc=1 /);
  assert.match(silence.launch, /wave=silence/);
  assert.match(desktop.launch, /^pulsesrc server=unix:\/tmp\/sg\/native device=streamgate\.monitor [^!]*buffer-time=20000 latency-time=10000 ! audioconvert/);
  assert.equal(tone.control, undefined);
});

test('a display name, PulseAudio server or device that could smuggle pipeline syntax is refused', () => {
  assert.throws(() => describePipeline({ ...h264, source: { kind: 'x11', display: ':0 ! filesink location=/tmp/x' } }, RTP));
  const audio = (server: string, device: string): StreamSpec => ({ kind: 'audio', source: { kind: 'x11', display: ':1', audio: { server, device } } });
  assert.throws(() => describePipeline(audio('unix:/tmp/x ! filesink location=/tmp/y', 'm'), RTP), /PulseAudio server/);
  assert.throws(() => describePipeline(audio('unix:/tmp/x', 'm ! filesink'), RTP), /PulseAudio device/);
});

test('one stream key per source and codec, and one per source for audio', () => {
  assert.equal(streamKey(h264), 'test/H264');
  assert.equal(streamKey({ ...h264, codec: 'VP8', source: { kind: 'x11', display: ':1' } }), 'x11:1/VP8');
  assert.equal(streamKey({ kind: 'audio', source: { kind: 'test' } }), 'test/opus');
});

test('each rung of the ladder is its own stream; small is half the size and frame rate, reduced the full picture', () => {
  assert.equal(streamKey({ ...h264, rung: 'full' }), 'test/H264', 'the full rung keeps the key of before');
  assert.equal(streamKey({ ...h264, rung: 'small' }), 'test/H264/small');
  assert.equal(streamKey({ ...h264, rung: 'reduced' }), 'test/H264/reduced');
  const small = describePipeline({ ...h264, rung: 'small' }, RTP).launch;
  assert.match(small, /video\/x-raw,framerate=15\/1,width=1280,height=720 ! videoscale ! video\/x-raw,width=640,height=360 ! videoconvert/);
  assert.match(small, /key-int-max=45/, 'the GOP stays 3 s at the lower frame rate');
  const x11 = describePipeline({ ...h264, rung: 'small', source: { kind: 'x11', display: ':1' } }, RTP).launch;
  assert.match(x11, /videorate drop-only=true ! video\/x-raw,framerate=15\/1 ! videoscale ! video\/x-raw,width=640,height=360/);
  assert.equal(describePipeline({ ...h264, rung: 'reduced' }, RTP).launch, describePipeline(h264, RTP).launch);
});

test('the first preferred codec the server has wins, case-insensitively; none when nothing matches', () => {
  assert.equal(pickCodec(['vp9', 'vp8', 'H264'], ['H264', 'VP8']), 'VP8');
  assert.equal(pickCodec(['AV1'], ['H264', 'VP8']), undefined);
  assert.equal(pickCodec([], ['H264', 'VP8']), 'H264');
});

test('the offer carries every requested codec the server has, in the client\'s order; all of the server\'s when none is asked', () => {
  assert.deepEqual(offerCodecs(['vp8', 'VP9', 'H264', 'VP8'], ['H264', 'VP8']), ['VP8', 'H264']);
  assert.deepEqual(offerCodecs(['AV1'], ['H264', 'VP8']), []);
  assert.deepEqual(offerCodecs([], ['H264', 'VP8']), ['H264', 'VP8']);
});

test('the answered codec is the first payload type of the section\'s m= line; a rejected section has none', () => {
  const answer = (port: number): string =>
    ['v=0', `m=video ${port} UDP/TLS/RTP/SAVPF 98 99`, 'a=mid:0', 'a=rtpmap:99 H264/90000', 'a=rtpmap:98 VP8/90000', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');
  assert.equal(answeredCodec(answer(9), '0'), 'VP8');
  assert.equal(answeredCodec(answer(9), '1'), 'OPUS');
  assert.equal(answeredCodec(answer(0), '0'), undefined);
  assert.equal(answeredCodec(answer(9), '2'), undefined);
});

test('mDNS candidates are recognised; SDP candidates are listed in their RTCIceCandidate form', () => {
  assert.equal(isMdnsCandidate('candidate:1 1 udp 2122260223 3f1b6a2c-9a0e-4a52-8c1e-0b0d7e1f2a3b.local 54321 typ host'), true);
  assert.equal(isMdnsCandidate('candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host'), false);
  const sdp = 'v=0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\na=mid:0\r\n';
  assert.deepEqual([...sdpCandidates(sdp)], ['candidate:1 1 udp 1 127.0.0.1 9 typ host']);
});

test('candidates gathered after werift took its SDP snapshot are written into every media section once', () => {
  const snapshot = [
    'v=0',
    'a=group:BUNDLE 0 1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 5 127.0.0.1 9 typ host',
    'a=ice-ufrag:abcd',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    'a=ice-ufrag:abcd',
    '',
  ].join('\r\n');
  const first = 'candidate:1 1 udp 5 127.0.0.1 9 typ host';
  const second = 'candidate:2 1 udp 5 192.0.2.2 9 typ host';
  const sdp = withCandidates(snapshot, [first, second]);
  const sections = sdp.split(/\r\n(?=m=)/).slice(1);
  assert.equal(sections.length, 2);
  for (const section of sections) assert.deepEqual([...sdpCandidates(section)].sort(), [first, second]);
  assert.ok(sdp.endsWith('\r\n') && !sdp.includes('\n\n'), 'line endings kept');
  assert.equal(withCandidates(snapshot, []), snapshot);
});
