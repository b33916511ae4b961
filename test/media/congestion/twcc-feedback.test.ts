import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransportWideCC } from 'werift';
import { twccResults } from '../../../src/media/congestion/twcc-feedback.js';

/**
 * A feedback as Chromium writes it: a two-bit status-vector chunk (received and lost mixed, one large
 * delta) followed by a run-length chunk, across the 16-bit wrap of the sequence number.
 */
function chromiumLikeFeedback(): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x11111111, 0); // sender SSRC
  header.writeUInt32BE(0x22222222, 4); // media SSRC
  header.writeUInt16BE(65534, 8); // base sequence number
  header.writeUInt16BE(10, 10); // packet status count
  header.writeUIntBE(100, 12, 3); // reference time: 100 × 64 ms
  header.writeUInt8(0, 15); // feedback packet count
  // Status vector, 2-bit symbols: received, lost, received (large delta), received, received, lost, received.
  const vector = Buffer.from([0b11_01_00_10, 0b01_01_00_01]);
  // Run length: three packets received with small deltas.
  const run = Buffer.from([0b0_01_00000, 3]);
  // Deltas in 250 µs units: 4 (1 ms), large 400 (100 ms), 1, 2, 0, then 1, 1, 1.
  const deltas = Buffer.from([4, 0x01, 0x90, 1, 2, 0, 1, 1, 1]);
  return Buffer.concat([header, vector, run, deltas]);
}

test('TWCC results follow every chunk kind, the sequence wrap and sub-millisecond deltas', () => {
  const feedback = TransportWideCC.deSerialize(chromiumLikeFeedback(), undefined as never);
  assert.deepEqual(twccResults(feedback), [
    { seq: 65534, receivedAtMs: 6401 },
    { seq: 65535, receivedAtMs: null },
    { seq: 0, receivedAtMs: 6501 },
    { seq: 1, receivedAtMs: 6501.25 },
    { seq: 2, receivedAtMs: 6501.75 },
    { seq: 3, receivedAtMs: null },
    { seq: 4, receivedAtMs: 6501.75 },
    { seq: 5, receivedAtMs: 6502 },
    { seq: 6, receivedAtMs: 6502.25 },
    { seq: 7, receivedAtMs: 6502.5 },
  ]);
});

test('status-vector padding past the packet count is not reported', () => {
  const results = twccResults({
    baseSequenceNumber: 10,
    packetStatusCount: 3,
    referenceTime: 0,
    // One-bit symbols: 14 per chunk, only the first three are packets.
    packetChunks: [{ symbolSize: 0, symbolList: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }],
    recvDeltas: [{ delta: 1000 }, { delta: 500 }],
  });
  assert.deepEqual(results, [
    { seq: 10, receivedAtMs: 1 },
    { seq: 11, receivedAtMs: 1.5 },
    { seq: 12, receivedAtMs: null },
  ]);
});
