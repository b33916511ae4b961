import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { between, simulate, type SimulatedEstimator } from './link-simulator.js';

/**
 * Why werift's own sender estimator is replaced, measured on the same simulated link as ours. It is fed
 * correct per-packet results (not werift's misparsed ones) and its clock is the simulation's; it still only
 * reports min(send rate, receive rate) per window, which can never exceed what is sent: once a drop has
 * lowered the bitrate, nothing ever raises it again.
 */
const require = createRequire(import.meta.url);
const weriftDir = dirname(require.resolve('werift'));
const utils = require(join(weriftDir, 'utils.js')) as { milliTime: () => number };
const { SenderBandwidthEstimator } = require(join(weriftDir, 'media/sender/senderBWE.js')) as {
  SenderBandwidthEstimator: new () => {
    availableBitrate: number;
    rtpPacketSent(info: { wideSeq: number; size: number; sendingAtMs: number; sentAtMs: number }): void;
    receiveTWCC(feedback: { packetResults: { sequenceNumber: number; received: boolean; receivedAtMs: number }[] }): void;
  };
};

function weriftEstimator(now: () => number, initialBps: number): SimulatedEstimator {
  const bwe = new SenderBandwidthEstimator();
  return {
    onPacketSent: (seq, size, atMs) => bwe.rtpPacketSent({ wideSeq: seq, size, sendingAtMs: atMs, sentAtMs: atMs }),
    onTwccFeedback: (results) =>
      bwe.receiveTWCC({
        packetResults: results.map((r) => ({ sequenceNumber: r.seq, received: r.receivedAtMs !== null, receivedAtMs: r.receivedAtMs ?? 0 })),
      }),
    onReceiverReport: () => undefined,
    estimate: () => ({ bps: bwe.availableBitrate > 0 ? bwe.availableBitrate : initialBps }),
  };
}

test("werift's estimator follows a drop but never finds the returned link; ours does", (t) => {
  const original = utils.milliTime;
  t.after(() => (utils.milliTime = original));
  const scenario = {
    durationMs: 40_000,
    linkBps: (atMs: number): number => (atMs >= 10_000 && atMs < 20_000 ? 800_000 : 5_000_000),
    ceilingBps: 2_500_000,
    paced: true,
  };
  const theirs = simulate({
    ...scenario,
    makeEstimator: (now, initialBps) => {
      utils.milliTime = now;
      return weriftEstimator(now, initialBps);
    },
  });
  utils.milliTime = original;
  const ours = simulate(scenario);

  const mean = (samples: { encoderBps: number }[]): number => samples.reduce((sum, s) => sum + s.encoderBps, 0) / samples.length;
  const theirsAfter = mean(between(theirs, 30_000, 40_000));
  const oursAfter = mean(between(ours, 30_000, 40_000));
  assert.ok(theirsAfter < 1_000_000, `werift: ${Math.round(theirsAfter / 1000)} kbit/s 10 s after the link returned`);
  assert.ok(oursAfter > 2_400_000, `ours: ${Math.round(oursAfter / 1000)} kbit/s 10 s after the link returned`);
});
