/**
 * A joining viewer's first picture (src/media/video-join.ts): the keyframe asked for at ICE, its packets kept until
 * DTLS and sent then, in order, from the picture's start; nothing kept from before it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRtpHeader, type RtpHeaderInfo } from '../../src/media/rtp-inspect.js';
import { VideoJoin } from '../../src/media/video-join.js';

/** A baseline SPS of a 1280×720 picture, as x264 sends it in front of every IDR. */
const SPS = Buffer.from('6742c01fda014016e4', 'hex');

/**
 * An RTP packet with sequence number `seq` of picture `picture` (its timestamp) carrying one H.264 NAL unit of
 * `nalType`: 7 = the SPS above, 5 = an IDR slice, 1 = a P slice.
 */
function h264(seq: number, nalType: number, picture = seq): { packet: Buffer; header: RtpHeaderInfo } {
  const nal = nalType === 7 ? SPS : Buffer.from([0x60 | nalType, 0x88, 0x84]);
  const packet = Buffer.concat([Buffer.alloc(12), nal]);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(picture * 3000, 4);
  packet.writeUInt32BE(0x1234, 8);
  return { packet, header: parseRtpHeader(packet)! };
}

function rig(attached = true): { join: VideoJoin; requests: () => number; sent: number[] } {
  let requests = 0;
  const sent: number[] = [];
  const join = new VideoJoin(
    () => (attached ? { requestKeyframe: () => void requests++ } : undefined),
    (packet) => sent.push(packet.readUInt16BE(2)),
  );
  return { join, requests: () => requests, sent };
}

test('the keyframe asked for at ICE is kept from its start and sent, in order, when DTLS comes up; once only', () => {
  const { join, requests, sent } = rig();
  const feed = (seq: number, nal: number, picture = seq): boolean => {
    const { packet, header } = h264(seq, nal, picture);
    return join.held(packet, header);
  };
  assert.equal(feed(1, 1), false, 'before ICE nothing is kept: the caller sends (werift drops it)');
  join.iceConnected('H264');
  assert.equal(requests(), 1, 'asked for at ICE');
  assert.equal(feed(2, 1), true, 'a P slice before the keyframe is held back, not kept');
  // The SPS and the IDR of one picture (one timestamp), then a P slice of the next.
  for (const [seq, nal, picture] of [[3, 7, 3], [4, 5, 3], [5, 1, 5]] as const) assert.equal(feed(seq, nal, picture), true);
  assert.deepEqual(sent, [], 'nothing leaves before DTLS');
  join.dtlsReady();
  assert.deepEqual(sent, [3, 4, 5], 'the SPS, the IDR and what followed, in order');
  assert.equal(requests(), 1, 'not asked again at DTLS: the one asked for at ICE came');
  assert.equal(feed(6, 1), false, 'after DTLS packets go straight through');
  join.iceConnected('H264');
  assert.equal(requests(), 1, 'an ICE restart later changes nothing');
});

test('a keyframe asked for at ICE that has not come by DTLS is not asked for again: it goes out as it comes', () => {
  const { join, requests, sent } = rig();
  join.iceConnected('H264');
  const { packet, header } = h264(1, 1);
  join.held(packet, header);
  join.dtlsReady();
  assert.deepEqual([requests(), sent.length], [1, 0]);
});

test('with no encoder attached at ICE, the keyframe is asked for at DTLS as before', () => {
  let attached = false;
  let requests = 0;
  const join = new VideoJoin(() => (attached ? { requestKeyframe: () => void requests++ } : undefined), () => undefined);
  join.iceConnected('VP8');
  attached = true;
  join.dtlsReady();
  assert.equal(requests, 1);
});
