/**
 * The ladder's move down needs the path to back the estimate (ladder-policy.ts, `heldBack`): a dip while
 * everything sent arrives moves nobody, a bottleneck that holds the viewer back without a break does, and a
 * viewer whose path tells nothing (no TWCC) moves on its estimate alone, as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LadderPolicy, type ViewerEstimate } from '../../../src/media/congestion/ladder-policy.js';

const CEILING = 2_500_000;

function ladder(): { policy: LadderPolicy; at(ms: number): void } {
  let now = 0;
  return { policy: new LadderPolicy({ ceilingBps: CEILING, now: () => now }), at: (ms) => (now = ms) };
}

const good: ViewerEstimate = { id: 'good', estimateBps: 5_000_000, settled: true, heldBack: false };
const dipping = (heldBack: boolean | undefined): ViewerEstimate => ({ id: 'dip', estimateBps: 1_000_000, settled: true, heldBack });

/** Ticks every 250 ms (as encoder-rate-control does) from `fromMs` to `toMs`; the dipping viewer's rung at the end. */
function run(policy: LadderPolicy, at: (ms: number) => void, fromMs: number, toMs: number, heldBack: (ms: number) => boolean | undefined): number {
  let rung = 0;
  for (let ms = fromMs; ms <= toMs; ms += 250) {
    at(ms);
    rung = policy.update([good, dipping(heldBack(ms))]).rungOf.get('dip')!;
  }
  return rung;
}

test('a dip that the path does not back (all that is sent arrives) moves nobody, however long it lasts', () => {
  const { policy, at } = ladder();
  assert.equal(run(policy, at, 0, 20_000, () => false), 0);
});

test('a path that holds the viewer back moves it down only once it has done so for 1.5 s without a break', () => {
  const { policy, at } = ladder();
  // Held back in bursts of 1 s (a loaded host's stall): never long enough.
  assert.equal(run(policy, at, 0, 9750, (ms) => ms % 2000 < 1000), 0, 'stalls of 1 s do not move it');
  assert.equal(run(policy, at, 10_000, 11_250, () => true), 0, 'held back for 1.25 s: not yet');
  assert.equal(run(policy, at, 11_500, 11_500, () => true), 2, 'held back for 1.5 s: moved to the small rung');
});

test('without anything to tell by (no TWCC) the estimate alone moves the viewer, after the usual 500 ms', () => {
  const { policy, at } = ladder();
  assert.equal(run(policy, at, 0, 250, () => undefined), 0);
  assert.equal(run(policy, at, 500, 500, () => undefined), 2);
});
