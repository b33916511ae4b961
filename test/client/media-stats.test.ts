import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeStats } from '../../src/client/index.js';

function report(t: number, bytes: number, frames: number, received: number, lost: number): object[] {
  return [
    { id: 'T1', type: 'transport', timestamp: t, selectedCandidatePairId: 'CP1' },
    { id: 'CP1', type: 'candidate-pair', timestamp: t, state: 'succeeded', nominated: true, currentRoundTripTime: 0.004 },
    { id: 'C1', type: 'codec', timestamp: t, mimeType: 'video/H264', payloadType: 102 },
    { id: 'C2', type: 'codec', timestamp: t, mimeType: 'audio/opus', payloadType: 111 },
    {
      id: 'IV', type: 'inbound-rtp', kind: 'video', timestamp: t, codecId: 'C1', bytesReceived: bytes, framesDecoded: frames,
      packetsReceived: received, packetsLost: lost, frameWidth: 1280, frameHeight: 720, jitter: 0.002, framesDropped: 1,
    },
    { id: 'IA', type: 'inbound-rtp', kind: 'audio', timestamp: t, codecId: 'C2', bytesReceived: 10 },
  ];
}

test('a stats report becomes codec, resolution, RTT and jitter in ms', () => {
  const s = summarizeStats(report(1000, 0, 0, 0, 0))!;
  assert.equal(s.codec, 'H264');
  assert.equal(s.audioCodec, 'opus');
  assert.equal(s.width, 1280);
  assert.equal(s.height, 720);
  assert.equal(s.rttMs, 4);
  assert.equal(s.jitterMs, 2);
  assert.equal(s.bitrateKbps, null, 'no rate without a previous sample');
});

test('rates come from the difference of two samples', () => {
  const a = summarizeStats(report(1000, 100_000, 30, 1000, 0))!;
  const b = summarizeStats(report(2000, 350_000, 60, 1990, 10), a)!;
  assert.equal(b.bitrateKbps, 2000, '250 000 bytes in 1 s = 2000 kbit/s');
  assert.equal(b.fps, 30);
  assert.equal(b.packetLossPercent, 1, '10 lost of 1000 in the interval');
});

test('no video inbound stream means no summary', () => {
  assert.equal(summarizeStats([{ id: 'x', type: 'transport' }]), null);
});
