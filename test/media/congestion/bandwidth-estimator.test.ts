import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BandwidthEstimator } from '../../../src/media/congestion/bandwidth-estimator.js';
import { between, percentile, simulate } from './link-simulator.js';

const CEILING = 2_500_000;
const mbps = (bps: number): string => `${(bps / 1e6).toFixed(2)} Mbit/s`;

test('on a 1 Mbit/s link the encoder settles under the link rate, and the queue stays short', () => {
  const samples = simulate({ durationMs: 30_000, linkBps: () => 1_000_000, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const settled = between(samples, 10_000, 30_000);
  const encoder = settled.map((s) => s.encoderBps);
  const mean = encoder.reduce((a, b) => a + b, 0) / encoder.length;
  assert.ok(mean < 1_000_000 && mean > 600_000, `mean encoder rate ${mbps(mean)} should be 0.6–1 Mbit/s`);
  const queue = percentile(settled.map((s) => s.queueMs), 95);
  assert.ok(queue < 100, `p95 bottleneck queue ${queue.toFixed(0)} ms should stay under 100 ms`);
});

test('after a 5 → 0.8 Mbit/s drop the rate is under the link and the queue short within 3 s, and is back at full within 10 s of its return', () => {
  const link = (atMs: number): number => (atMs >= 15_000 && atMs < 30_000 ? 800_000 : 5_000_000);
  const samples = simulate({ durationMs: 45_000, linkBps: link, ceilingBps: CEILING, paced: true, keyframeScale: 6 });

  const before = between(samples, 10_000, 15_000);
  assert.ok(before.every((s) => s.encoderBps >= CEILING * 0.99), 'on the fast link the encoder runs at the ceiling');

  const afterDrop = between(samples, 18_000, 30_000);
  const mean = afterDrop.reduce((sum, s) => sum + s.encoderBps, 0) / afterDrop.length;
  assert.ok(mean < 800_000, `from 3 s after the drop the encoder averages under the link (${mbps(mean)})`);
  const queue = percentile(afterDrop.map((s) => s.queueMs), 95);
  assert.ok(queue < 100, `p95 queue ${queue.toFixed(0)} ms from 3 s after the drop`);

  const recovered = samples.find((s) => s.atMs >= 30_000 && s.encoderBps >= CEILING * 0.99);
  assert.ok(recovered, 'the encoder gets back to the ceiling');
  assert.ok(recovered.atMs - 30_000 <= 10_000, `back at full ${(recovered.atMs - 30_000) / 1000} s after the link returned`);
});

test('after 30 s on 1 Mbit/s the link opening to 5 Mbit/s is found within 6 s', () => {
  // The lab's adaptive-bitrate test: narrow, then 5 Mbit/s. Once past the old congestion and 2 s without a
  // decrease, growth doubles to 40 %/s (7.4 s at 20 %/s throughout).
  const samples = simulate({ durationMs: 45_000, linkBps: (atMs) => (atMs < 30_000 ? 1_000_000 : 5_000_000), queueLimitMs: 100, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const recovered = samples.find((s) => s.atMs >= 30_000 && s.encoderBps >= CEILING * 0.99);
  assert.ok(recovered, 'the encoder gets back to the ceiling');
  assert.ok(recovered.atMs - 30_000 <= 6000, `back at full ${(recovered.atMs - 30_000) / 1000} s after the link opened`);
});

test("a join's keyframe burst is not read as congestion", () => {
  // A 15-frame keyframe, unpaced, into a link that carries the steady rate with little to spare: a 350 ms queue.
  const samples = simulate({ durationMs: 6000, linkBps: () => 3_000_000, ceilingBps: CEILING, keyframeScale: 15, queueLimitMs: 1000 });
  assert.ok(Math.max(...samples.map((s) => s.queueMs)) > 200, 'the burst did build a queue');
  const lowest = Math.min(...samples.map((s) => s.estimateBps));
  assert.ok(lowest >= CEILING, `the estimate stayed at the ceiling (lowest ${mbps(lowest)})`);
});

test('heavy loss pulls the estimate down; the random 2 % loss of a mobile link does not', () => {
  const lossy = simulate({ durationMs: 10_000, linkBps: () => 10_000_000, loss: 0.2, ceilingBps: CEILING, paced: true });
  assert.ok(lossy.at(-1)!.estimateBps < CEILING / 4, `20 % loss: ${mbps(lossy.at(-1)!.estimateBps)}`);

  // The lab's mobile profile: 1.5 Mbit/s, 120 ms RTT varying by ±30 ms, 2 % loss, a 100 ms queue.
  const mobile = simulate({ durationMs: 30_000, linkBps: () => 1_500_000, oneWayMs: 60, jitterMs: 15, loss: 0.02, queueLimitMs: 100, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const settled = between(mobile, 10_000, 30_000).map((s) => s.encoderBps);
  const mean = settled.reduce((a, b) => a + b, 0) / settled.length;
  assert.ok(mean > 900_000 && mean < 1_500_000, `mobile: mean encoder rate ${mbps(mean)}`);
});

test("werift's retransmissions, which keep their first transport-wide number, do not read as queueing", () => {
  // The lab's dsl link: 30 ms RTT, loss repaired by NACK one round trip later, plenty of room above the ceiling.
  const samples = simulate({ durationMs: 30_000, linkBps: () => 8_000_000, oneWayMs: 15, loss: 0.005, retransmitAfterMs: 35, queueLimitMs: 50, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const lowest = Math.min(...between(samples, 3000, 30_000).map((s) => s.encoderBps));
  assert.ok(lowest >= CEILING * 0.99, `the encoder stays at the ceiling (lowest ${mbps(lowest)})`);
});

test("a loaded host's jitter does not drive the estimate down", () => {
  // A sender descheduled for 150 ms every 1.1 s, whose last packets stamped before each stall leave at its
  // end, and a receiver (or the lab's bridge) that stalls for 80 ms every 1.3 s and then stamps what arrived
  // meanwhile in one burst, as seen in the network lab at load 25–50.
  const host = { senderStalls: { everyMs: 1100, forMs: 150 }, receiverStalls: { everyMs: 1300, forMs: 80 } };
  const roomy = simulate({ durationMs: 30_000, linkBps: () => 5_000_000, ...host, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const encoder = between(roomy, 3000, 30_000).map((s) => s.encoderBps);
  assert.ok(percentile(encoder, 10) >= CEILING * 0.95, `5 Mbit/s: p10 encoder ${mbps(percentile(encoder, 10))}`);

  // On 1 Mbit/s the burst each sender stall releases overflows the 100 ms queue: real loss, so less than the
  // 0.87 Mbit/s of a quiet host, but no collapse.
  const narrow = simulate({ durationMs: 30_000, linkBps: () => 1_000_000, ...host, queueLimitMs: 100, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const settled = between(narrow, 10_000, 30_000);
  const mean = settled.reduce((sum, s) => sum + s.encoderBps, 0) / settled.length;
  assert.ok(mean > 500_000 && mean < 1_000_000, `1 Mbit/s: mean encoder rate ${mbps(mean)}`);
});

test('a join far above the link is answered once, not once per step of the same lost second', () => {
  // The lab's narrow link under a join at the 2.5 Mbit/s ceiling, with an encoder slow to follow: most of
  // what is sent is lost for a second or two.
  const samples = simulate({ durationMs: 10_000, linkBps: () => 1_000_000, queueLimitMs: 100, ceilingBps: CEILING, keyframeScale: 6, encoderLagMs: 1500 });
  const lowest = Math.min(...between(samples, 1000, 10_000).map((s) => s.estimateBps));
  assert.ok(lowest >= 400_000, `the estimate stays near what the link delivers (lowest ${mbps(lowest)})`);
  const late = between(samples, 6000, 10_000).map((s) => s.encoderBps);
  assert.ok(Math.min(...late) >= 600_000, `and is back near the link within 6 s (lowest ${mbps(Math.min(...late))})`);
});

test('without TWCC, REMB drives the estimate, and its dip right after the join is ignored unless there is loss', () => {
  let now = 0;
  const estimator = new BandwidthEstimator({ initialBps: CEILING, minBps: 100_000, maxBps: 5_000_000, now: () => now });
  // Without transport-cc werift numbers no packet: the first REMB is where the start phase begins.
  estimator.onRemb(2_600_000);
  now = 500;
  estimator.onRemb(1_900_000); // Chromium after the join's keyframe, measured on loopback
  assert.equal(estimator.estimate().source, 'remb');
  assert.equal(estimator.estimate().bps, 2_600_000, 'the dip is ignored');
  now = 1000;
  estimator.onReceiverReport(0.3, 40);
  estimator.onRemb(1_200_000); // a real 1 Mbit/s link: REMB low and loss high
  assert.ok(estimator.estimate().bps <= 1_200_000, `with loss the lower REMB counts: ${mbps(estimator.estimate().bps)}`);
  assert.equal(estimator.estimate().rttMs, 40);
  assert.equal(estimator.estimate().lossFraction, 0.3);
  now = 10_000;
  estimator.onReceiverReport(0, 40);
  for (; now < 15_000; now += 200) estimator.onRemb(3_000_000);
  assert.equal(estimator.estimate().bps, 3_000_000, 'once the loss is gone the estimate climbs back to the REMB');
  estimator.onRemb(2_000_000);
  assert.equal(estimator.estimate().bps, 2_000_000, 'a lower REMB after the start phase counts at once');
});

test('feedback for packets never sent (or forgotten) is ignored, and the estimate is reported to the listener', () => {
  const seen: number[] = [];
  const estimator = new BandwidthEstimator({
    initialBps: 1_000_000,
    minBps: 100_000,
    maxBps: 5_000_000,
    now: () => 0,
    onEstimate: (estimate) => seen.push(estimate.bps),
  });
  estimator.onTwccFeedback([{ seq: 7, receivedAtMs: 10 }]);
  assert.deepEqual(seen, []);
  assert.equal(estimator.estimate().source, 'none');
  estimator.onPacketSent(7, 1200, 0);
  estimator.onTwccFeedback([{ seq: 7, receivedAtMs: 10 }]);
  assert.deepEqual(seen, [1_000_000]);
  assert.equal(estimator.estimate().source, 'twcc');
});

test('after a 5 → 0.8 Mbit/s drop under a 2.5 Mbit/s stream, the encoder is under the link and the queue drained within 1 s', () => {
  // The lab's congested profile: a 100 ms drop-tail queue (tbf) that overflows, ~60 % lost. Heavy loss in the
  // newest feedback cuts straight to what the link delivered lately, on both sides: under the link at 0.45 s,
  // drained at 0.7 s. Halving per round trip from the 500 ms received rate took 0.75 s and 1.2 s.
  const dropMs = 15_000;
  const link = (atMs: number): number => (atMs >= dropMs && atMs < 30_000 ? 800_000 : 5_000_000);
  const samples = simulate({ durationMs: 20_000, linkBps: link, queueLimitMs: 100, ceilingBps: CEILING, paced: true, keyframeScale: 6 });
  const after = between(samples, dropMs, 20_000);
  const under = after.find((s) => s.encoderBps < 800_000);
  assert.ok(under, 'the encoder goes under the link');
  const drained = after.find((s) => s.atMs > under.atMs && s.queueMs < 10);
  assert.ok(drained, 'the queue drains');
  assert.ok(drained.atMs - dropMs <= 1000, `encoder under the link ${under.atMs - dropMs} ms, queue drained ${drained.atMs - dropMs} ms after the drop`);
});
