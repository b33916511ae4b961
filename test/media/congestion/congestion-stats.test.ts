import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BandwidthEstimator } from '../../../src/media/congestion/bandwidth-estimator.js';
import { congestionFigures } from '../../../src/media/congestion/congestion-stats.js';

test("a viewer's congestion figures are rounded kbit/s and ms, with its rung", () => {
  let now = 0;
  const estimator = new BandwidthEstimator({ initialBps: 2_500_000, minBps: 100_000, maxBps: 5_000_000, now: () => now });
  for (let seq = 0; seq < 50; seq++) estimator.onPacketSent(seq, 1200, seq * 4);
  now = 300;
  estimator.onTwccFeedback([...Array(50).keys()].map((seq) => ({ seq, receivedAtMs: 1000 + seq * 4.1 })));
  estimator.onReceiverReport(0.0123, 41.6);
  assert.deepEqual(congestionFigures(estimator.estimate(), { name: 'reduced', targetBps: 1_234_567 }, 12.4), {
    estimate_kbps: 2500,
    delay_based_kbps: 2500,
    loss_based_kbps: 2500,
    remb_kbps: null,
    source: 'twcc',
    usage: 'normal',
    loss_fraction: 0,
    rtt_ms: 42,
    acked_kbps: 2389, // 60 kB received over 200.9 ms
    send_kbps: 1600, // 60 kB sent from 0 ms, measured at 300 ms
    rung: 'reduced',
    rung_target_kbps: 1235,
    pacer_queue_ms: 12,
    start_phase: true,
  });
});
