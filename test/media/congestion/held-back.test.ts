/** What counts as the path holding a viewer back, for the ladder's moves down (encoder-rate-control.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BandwidthEstimate } from '../../../src/media/congestion/bandwidth-estimator.js';
import { heldBack } from '../../../src/media/encoder-rate-control.js';

const base: BandwidthEstimate = {
  bps: 500_000,
  delayBasedBps: 500_000,
  lossBasedBps: 500_000,
  rembBps: null,
  source: 'twcc',
  usage: 'overusing',
  lossFraction: 0,
  rttMs: 50,
  ackedBps: 1_000_000,
  sentBps: 2_500_000,
  inStartPhase: false,
};

test('received well under what was sent, or heavy loss, is held back; a dip with everything arriving is not', () => {
  assert.equal(heldBack(base), true, 'a bottleneck: 1 of 2.5 Mbit/s arrives');
  assert.equal(heldBack({ ...base, ackedBps: 2_400_000 }), false, 'everything arrives: the estimate alone dipped');
  assert.equal(heldBack({ ...base, ackedBps: 2_400_000, lossFraction: 0.2 }), true, '20 % lost');
  assert.equal(heldBack({ ...base, ackedBps: 2_400_000, lossFraction: 0.02 }), false, "mobile's 2 % random loss");
});

test('no feedback, or nothing sent of late, shows nothing held back; REMB alone leaves it to the estimate', () => {
  assert.equal(heldBack({ ...base, source: 'none' }), false);
  assert.equal(heldBack({ ...base, sentBps: null }), false);
  assert.equal(heldBack({ ...base, ackedBps: null }), false);
  assert.equal(heldBack({ ...base, source: 'remb', ackedBps: null }), undefined);
  assert.equal(heldBack({ ...base, source: 'remb', lossFraction: 0.3 }), true);
  // TWCC stopped (a stalled browser) and the estimate fell back to the last REMB: not a REMB-only browser.
  assert.equal(heldBack({ ...base, source: 'remb', ackedBps: null }, true), false);
  assert.equal(heldBack({ ...base, source: 'remb', lossFraction: 0.3 }, true), true);
});
