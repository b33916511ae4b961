import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyReceiverReport, parseRtcpFeedback } from '../../src/janus/rtcp-feedback.js';

/** A payload-specific feedback packet (PT 206) with the given FMT and FCI. */
function psfb(fmt: number, mediaSsrc: number, fci: Buffer = Buffer.alloc(0)): Buffer {
  const packet = Buffer.alloc(12 + fci.length);
  packet[0] = 0x80 | fmt;
  packet[1] = 206;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(1, 4);
  packet.writeUInt32BE(mediaSsrc, 8);
  fci.copy(packet, 12);
  return packet;
}

test('a PLI names the media SSRC; a FIR names it in its FCI', () => {
  assert.deepEqual(parseRtcpFeedback(psfb(1, 1234)), [{ kind: 'pli', mediaSsrc: 1234 }]);
  const fci = Buffer.alloc(8);
  fci.writeUInt32BE(5678, 0);
  fci[4] = 7;
  assert.deepEqual(parseRtcpFeedback(psfb(4, 0, fci)), [{ kind: 'fir', mediaSsrc: 5678 }]);
});

test('a REMB gives its bitrate (mantissa × 2^exponent); feedback is found inside a compound packet', () => {
  // 300000 bit/s = 150000 × 2^1: exponent 1, mantissa 150000 (0x249F0).
  const fci = Buffer.from([0x52, 0x45, 0x4d, 0x42, 1, (1 << 2) | 0x02, 0x49, 0xf0, 0, 0, 0, 9]);
  const compound = Buffer.concat([emptyReceiverReport(7), psfb(15, 0, fci), psfb(1, 42)]);
  assert.deepEqual(parseRtcpFeedback(compound), [
    { kind: 'remb', bitrate: 300_000 },
    { kind: 'pli', mediaSsrc: 42 },
  ]);
});

test('receiver reports, RTP and truncated packets yield nothing', () => {
  assert.deepEqual(parseRtcpFeedback(emptyReceiverReport(7)), []);
  assert.deepEqual(parseRtcpFeedback(Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), []);
  assert.deepEqual(parseRtcpFeedback(psfb(1, 42).subarray(0, 10)), []);
  assert.deepEqual(parseRtcpFeedback(Buffer.alloc(0)), []);
});
