/**
 * A viewer that keeps asking for keyframes (PLI) for 5 s moves down a rung whatever its estimate says, and
 * stays off better rungs for a while; scattered PLIs move nobody (ladder-policy.ts, `pliCount`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LadderPolicy } from '../../../src/media/congestion/ladder-policy.js';

const CEILING = 2_500_000;

function ladder(): { policy: LadderPolicy; at(ms: number): void } {
  let now = 0;
  return { policy: new LadderPolicy({ ceilingBps: CEILING, now: () => now }), at: (ms) => (now = ms) };
}

/** Both viewers' estimates fit the top rung: only the PLIs can move `lossy`. Ticks every 250 ms. */
function run(policy: LadderPolicy, at: (ms: number) => void, fromMs: number, toMs: number, plis: (ms: number) => number): number[] {
  const rungs: number[] = [];
  for (let ms = fromMs; ms <= toMs; ms += 250) {
    at(ms);
    const decision = policy.update([
      { id: 'fine', estimateBps: 5_000_000, settled: true, heldBack: false, pliCount: 0 },
      { id: 'lossy', estimateBps: 5_000_000, settled: true, heldBack: false, pliCount: plis(ms) },
    ]);
    assert.equal(decision.rungOf.get('fine'), 0, 'the other viewer is not moved');
    rungs.push(decision.rungOf.get('lossy')!);
  }
  return rungs;
}

test('a PLI every second for 5 s moves the viewer down one rung, and it is held there', () => {
  const { policy, at } = ladder();
  const perSecond = (ms: number): number => Math.floor(ms / 1000);
  // The first PLI comes at 1 s: the run is 5 s long at 6 s.
  const rungs = run(policy, at, 0, 6000, perSecond);
  assert.equal(rungs[rungs.length - 1], 1, `moved down one rung after 5 s of PLIs: ${rungs.join('')}`);
  assert.ok(rungs.slice(0, -1).every((r) => r === 0), `not before: ${rungs.join('')}`);
  // PLIs stop; the estimate fits the top rung, but the move up waits out the hold (15 s).
  const after = run(policy, at, 6250, 30_000, () => perSecond(6000));
  const upAt = 6250 + after.indexOf(0) * 250;
  assert.ok(after.indexOf(0) > 0 && upAt >= 6000 + 15_000, `moved back up at ${upAt} ms, after the hold: ${after.join('')}`);
});

test('PLIs with gaps longer than 1.5 s never add up to a move', () => {
  const { policy, at } = ladder();
  const every2s = (ms: number): number => Math.floor(ms / 2000);
  assert.ok(run(policy, at, 0, 20_000, every2s).every((r) => r === 0));
});
