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

test('when every path holds back at once (a stalled host) nobody moves; once another path is clear the held-back viewer does', () => {
  const { policy, at } = ladder();
  // Seen on loopback at load ~29: the encoder starved, four viewers received 20–140 of 180 kbit/s sent, and each
  // one's hold-back would have moved it off the top rung onto an encoder of its own.
  const stalled = (id: string, estimateBps: number, heldBack: boolean): ViewerEstimate => ({ id, estimateBps, settled: true, heldBack });
  for (let ms = 0; ms <= 10_000; ms += 250) {
    at(ms);
    const decision = policy.update([stalled('best', 1_400_000, true), stalled('a', 600_000, true), stalled('b', 500_000, true)]);
    assert.deepEqual([...decision.rungOf.values()], [0, 0, 0], `everyone stays on the full rung at ${ms} ms`);
  }
  // The best viewer's path clears (the top rung now fits it): the others' hold-back is their own and counts.
  let rungs: number[] = [];
  for (let ms = 10_250; ms <= 12_000; ms += 250) {
    at(ms);
    rungs = [...policy.update([stalled('best', 1_400_000, false), stalled('a', 600_000, true), stalled('b', 500_000, true)]).rungOf.values()];
  }
  assert.deepEqual(rungs, [0, 1, 2], 'after 1.5 s held back while another path is clear, both move down, each to the rung it fits');
});
