import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectVideoPayload, parseRtpHeader, parseSpsSize } from '../../src/media/rtp-inspect.js';

/** SPS NAL units x264enc produced for these sizes (constrained baseline, as the pipelines encode). */
const SPS = {
  '640x360': '6742c01eda0280bfe5c05a8303035280000003008000001e478b1750',
  '1280x720': '6742c01fda014016ec05a808080a000003000200000300791e306540',
  '1920x1080': '6742c028da01e0089f97016a02020280000003008000001e478c1950',
};

test('the picture size is read from real x264 SPS units, cropping included (1080 from 1088)', () => {
  for (const [size, hex] of Object.entries(SPS)) {
    const [width, height] = size.split('x').map(Number);
    assert.deepEqual(parseSpsSize(Buffer.from(hex, 'hex')), { width, height }, size);
  }
});

test('a truncated SPS gives no size instead of throwing', () => {
  assert.deepEqual(parseSpsSize(Buffer.from('6742c01fda', 'hex')), {});
});

test('H.264: an IDR is recognised alone, in a STAP-A with the SPS, and at the start of an FU-A only', () => {
  const sps = Buffer.from(SPS['1280x720'], 'hex');
  const idr = Buffer.from([0x65, 0x88, 0x84]);
  const stapA = Buffer.concat([Buffer.from([0x78, 0, sps.length]), sps, Buffer.from([0, idr.length]), idr]);
  assert.deepEqual(inspectVideoPayload('H264', stapA), { keyframe: true, width: 1280, height: 720 });
  assert.equal(inspectVideoPayload('H264', idr).keyframe, true);
  assert.equal(inspectVideoPayload('H264', Buffer.from([0x7c, 0x85, 0x00])).keyframe, true, 'FU-A start of IDR');
  assert.equal(inspectVideoPayload('H264', Buffer.from([0x7c, 0x05, 0x00])).keyframe, false, 'FU-A middle');
  assert.equal(inspectVideoPayload('H264', Buffer.from([0x41, 0x9a, 0x00])).keyframe, false, 'P slice');
});

test('VP8: a keyframe and its size are read through the payload descriptor, extensions included', () => {
  const keyframe = Buffer.from([0x50, 0x2d, 0x01, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02]);
  assert.deepEqual(inspectVideoPayload('VP8', Buffer.concat([Buffer.from([0x10]), keyframe])), {
    keyframe: true,
    width: 1280,
    height: 720,
  });
  const withPictureId = Buffer.concat([Buffer.from([0x90, 0x80, 0x81, 0x23]), keyframe]);
  assert.equal(inspectVideoPayload('VP8', withPictureId).width, 1280);
  const interframe = Buffer.from([0x10, 0x51, 0x2d, 0x01, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(inspectVideoPayload('VP8', interframe).keyframe, false);
  const continuation = Buffer.concat([Buffer.from([0x00]), keyframe]);
  assert.equal(inspectVideoPayload('VP8', continuation).keyframe, false, 'not the start of a partition');
});

test('RTP headers: CSRCs, extension and padding are skipped; non-RTP is refused', () => {
  const header = Buffer.from([0x80 | 0x20 | 0x10 | 0x01, 0x80 | 96, 0, 1, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef]);
  const csrc = Buffer.alloc(4);
  const extension = Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
  const payload = Buffer.from([0x65, 0x88]);
  const padding = Buffer.from([0, 0, 3]);
  const info = parseRtpHeader(Buffer.concat([header, csrc, extension, payload, padding]));
  assert.ok(info);
  assert.equal(info.ssrc, 0xdeadbeef);
  assert.equal(info.timestamp, 9);
  assert.equal(info.marker, true);
  assert.deepEqual([...info.payload], [...payload]);
  assert.equal(parseRtpHeader(Buffer.from('not rtp at all')), undefined);
  assert.equal(parseRtpHeader(Buffer.alloc(8)), undefined);
});
