import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LadderPolicy, type LadderDecision, type ViewerEstimate } from '../../../src/media/congestion/ladder-policy.js';

const CEILING = 2_500_000;

function ladder(): { policy: LadderPolicy; at(ms: number): void } {
  let now = 0;
  return { policy: new LadderPolicy({ ceilingBps: CEILING, now: () => now }), at: (ms) => (now = ms) };
}

const viewer = (id: string, estimateBps: number, settled = true): ViewerEstimate => ({ id, estimateBps, settled });
const target = (decision: LadderDecision, rung: number): number | null => decision.rungs[rung]!.targetBps;

test('a viewer with a bad link moves down; the others keep the full rung at the ceiling', () => {
  const { policy, at } = ladder();
  let decision = policy.update([viewer('good', 5_000_000), viewer('bad', 5_000_000)]);
  assert.deepEqual(decision.rungs[0]!.viewers, ['good', 'bad']);
  assert.equal(target(decision, 0), CEILING);

  at(100);
  decision = policy.update([viewer('good', 5_000_000), viewer('bad', 1_000_000)]);
  assert.equal(decision.rungOf.get('bad'), 0, 'a move down waits for confirmation');
  assert.equal(target(decision, 0), CEILING, 'the bad link does not lower the full rung meanwhile');

  at(700);
  decision = policy.update([viewer('good', 5_000_000), viewer('bad', 1_000_000)]);
  assert.equal(decision.rungOf.get('good'), 0);
  assert.equal(decision.rungOf.get('bad'), 2, 'under the reduced floor (40 % of the top): the small rung');
  assert.equal(target(decision, 0), CEILING);
  assert.equal(target(decision, 1), null, 'an empty rung needs no encoder');
  const small = target(decision, 2)!;
  assert.ok(small <= 1_000_000 * 0.85 && small >= 150_000, `small rung at ${small}`);
});

test('a moderately worse link goes to the reduced rung, whose bitrate follows its worst viewer', () => {
  const { policy, at } = ladder();
  policy.update([viewer('a', 5_000_000), viewer('b', 2_000_000), viewer('c', 1_800_000)]);
  at(600);
  const decision = policy.update([viewer('a', 5_000_000), viewer('b', 2_000_000), viewer('c', 1_800_000)]);
  assert.deepEqual(decision.rungs.map((r) => r.viewers), [['a'], ['b', 'c'], []]);
  assert.equal(target(decision, 1), Math.round((1_800_000 - 80_000) * 0.85));
});

test('moving up needs headroom and time; a short recovery does not move the viewer', () => {
  const { policy, at } = ladder();
  policy.update([viewer('a', 5_000_000), viewer('b', 5_000_000)]);
  at(100);
  policy.update([viewer('a', 5_000_000), viewer('b', 2_000_000)]);
  at(700);
  assert.equal(policy.update([viewer('a', 5_000_000), viewer('b', 2_000_000)]).rungOf.get('b'), 1);

  // Recovers for 2 s, then dips again: no move up.
  at(1000);
  policy.update([viewer('a', 5_000_000), viewer('b', 5_000_000)]);
  at(3000);
  assert.equal(policy.update([viewer('a', 5_000_000), viewer('b', 5_000_000)]).rungOf.get('b'), 1);
  at(3100);
  policy.update([viewer('a', 5_000_000), viewer('b', 2_000_000)]);

  // An estimate that would just carry the top rung is not enough to enter it (enter needs 10 % headroom).
  const justEnough = CEILING + 80_000;
  at(4000);
  policy.update([viewer('a', 5_000_000), viewer('b', justEnough)]);
  at(9000);
  assert.equal(policy.update([viewer('a', 5_000_000), viewer('b', justEnough)]).rungOf.get('b'), 1);

  // A clear recovery, held for 3 s: up.
  at(10_000);
  policy.update([viewer('a', 5_000_000), viewer('b', 5_000_000)]);
  at(12_900);
  assert.equal(policy.update([viewer('a', 5_000_000), viewer('b', 5_000_000)]).rungOf.get('b'), 1);
  at(13_000);
  assert.equal(policy.update([viewer('a', 5_000_000), viewer('b', 5_000_000)]).rungOf.get('b'), 0);
});

test('the full rung follows its best viewer below the ceiling, falling at once and rising at most once a second', () => {
  const { policy, at } = ladder();
  let decision = policy.update([viewer('only', 2_000_000)]);
  assert.equal(decision.rungOf.get('only'), 0, 'the best viewer is never moved down: the rung follows it');
  assert.equal(target(decision, 0), Math.round((2_000_000 - 80_000) * 0.85));

  at(100);
  decision = policy.update([viewer('only', 1_000_000)]);
  assert.equal(target(decision, 0), Math.round((1_000_000 - 80_000) * 0.85), 'down at once');
  at(200);
  decision = policy.update([viewer('only', 1_500_000)]);
  assert.equal(target(decision, 0), Math.round((1_500_000 - 80_000) * 0.85), 'the first rise goes through');
  at(700);
  decision = policy.update([viewer('only', 2_500_000)]);
  assert.equal(target(decision, 0), Math.round((1_500_000 - 80_000) * 0.85), 'the next waits a second');
  at(1300);
  decision = policy.update([viewer('only', 2_500_000)]);
  assert.equal(target(decision, 0), Math.round((2_500_000 - 80_000) * 0.85));
  at(2400);
  decision = policy.update([viewer('only', 50_000_000)]);
  assert.equal(target(decision, 0), CEILING, 'never above the ceiling');
});

test('a joining viewer (estimator in its start phase) stays on the full rung and sets no bitrate', () => {
  const { policy, at } = ladder();
  policy.update([viewer('old', 1_500_000)]);
  at(1000);
  let decision = policy.update([viewer('old', 1_500_000), viewer('new', 300_000, false)]);
  assert.equal(decision.rungOf.get('new'), 0);
  assert.equal(target(decision, 0), Math.round((1_500_000 - 80_000) * 0.85), 'the newcomer neither lowers nor raises it');
  at(5000);
  decision = policy.update([viewer('old', 1_500_000), viewer('new', 300_000, false)]);
  assert.equal(decision.rungOf.get('new'), 0, 'however long its start phase lasts');

  at(6000);
  decision = policy.update([viewer('old', 1_500_000)]);
  assert.equal(decision.rungOf.has('new'), false, 'a viewer that left is forgotten');
});

test('with nobody settled the full rung runs at the ceiling', () => {
  const { policy } = ladder();
  const decision = policy.update([viewer('a', 0, false)]);
  assert.equal(target(decision, 0), CEILING);
});

test('a near miss (estimate just under the rung) waits longer before moving down than a clear miss', () => {
  const { policy, at } = ladder();
  const nearMiss = CEILING + 80_000 - 200_000;
  policy.update([viewer('good', 5_000_000), viewer('dip', nearMiss)]);
  at(700);
  assert.equal(policy.update([viewer('good', 5_000_000), viewer('dip', nearMiss)]).rungOf.get('dip'), 0, 'a dip of 8 % does not move at once');
  at(2000);
  assert.equal(policy.update([viewer('good', 5_000_000), viewer('dip', 5_000_000)]).rungOf.get('dip'), 0);
  at(2100);
  policy.update([viewer('good', 5_000_000), viewer('dip', nearMiss)]);
  at(5200);
  assert.equal(policy.update([viewer('good', 5_000_000), viewer('dip', nearMiss)]).rungOf.get('dip'), 1, 'held for 3 s, it moves');
});
