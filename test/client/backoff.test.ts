import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffCeiling, backoffDelay, shouldReconnect, DEFAULT_BACKOFF } from '../../src/client/index.js';

const opts = { baseDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 };

test('backoff ceiling doubles per attempt and stops at maxDelayMs', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, opts)),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
  assert.equal(backoffCeiling(10_000, opts), 5000, 'a huge attempt count must not overflow past the cap');
  assert.equal(backoffCeiling(-3, opts), 100, 'negative attempts count as the first');
});

test('backoff delay with jitter stays within [ceiling × (1 − jitter), ceiling]', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = backoffCeiling(attempt, opts);
    for (const r of [0, 0.001, 0.25, 0.5, 0.999, 1]) {
      const d = backoffDelay(attempt, opts, () => r);
      assert.ok(d >= Math.floor(ceiling * 0.5) && d <= ceiling, `attempt ${attempt}, random ${r}: ${d} outside [${ceiling / 2}, ${ceiling}]`);
    }
  }
});

test('backoff jitter spreads delays (many clients do not retry in lockstep)', () => {
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, opts)));
  assert.ok(delays.size > 10, `only ${delays.size} distinct delays out of 50`);
});

test('backoff without jitter is the exact ceiling', () => {
  assert.equal(backoffDelay(3, { ...opts, jitter: 0 }, () => 0.7), 800);
});

test('default backoff starts under a second and is capped', () => {
  assert.ok(backoffCeiling(0) <= 1000);
  assert.equal(backoffCeiling(100), DEFAULT_BACKOFF.maxDelayMs);
});

test('reconnects after abnormal close, going away, restart, try-again-later and liveness timeout', () => {
  for (const code of [1001, 1006, 1011, 1012, 1013, 4000]) assert.equal(shouldReconnect(code), true, `code ${code}`);
});

test('does not reconnect after a normal close, a policy close or a take-over', () => {
  for (const code of [1000, 1008, 4001, 1002, 1003, 1007, 1009]) assert.equal(shouldReconnect(code), false, `code ${code}`);
});
