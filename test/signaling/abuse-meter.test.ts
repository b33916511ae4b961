import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbuseMeter, TokenBucket } from '../../src/signaling/rate-limiter.js';

test('an abuse meter closes on drops in three consecutive quarter-seconds, not on one burst, and forgets after a gap', () => {
  const burst = new AbuseMeter();
  for (let t = 1000; t < 1240; t += 1) assert.equal(burst.drop(t), false, 'any number of drops inside one window is one strike');

  const flood = new AbuseMeter();
  assert.deepEqual([flood.drop(1000), flood.drop(1100), flood.drop(1260), flood.drop(1400), flood.drop(1520)], [false, false, false, false, true]);

  const gaps = new AbuseMeter();
  assert.deepEqual([gaps.drop(1000), gaps.drop(1300), gaps.drop(1900), gaps.drop(2200)], [false, false, false, false], 'a window without drops starts the count again');
});

test('a token bucket takes by cost and can be asked whether it holds enough without taking', () => {
  const bucket = new TokenBucket(10, 20, 0);
  assert.equal(bucket.take(15, 0), true);
  assert.equal(bucket.holds(6, 0), false);
  assert.equal(bucket.take(6, 0), false, 'a refused take takes nothing');
  assert.equal(bucket.holds(5, 0), true);
  assert.equal(bucket.take(6, 100), true, 'a tenth of a second refills one token at 10/s');
});
