import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyframeThrottle } from '../../src/media/keyframe-throttle.js';

test('a burst of requests forces one keyframe now and one at the end of the interval, not one each', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let forced = 0;
  const throttle = new KeyframeThrottle(500, () => forced++);
  throttle.request();
  assert.equal(forced, 1, 'the first request is served at once');
  for (let i = 0; i < 5; i++) throttle.request();
  assert.equal(forced, 1, 'requests inside the interval wait');
  t.mock.timers.tick(600);
  assert.equal(forced, 2, 'the waiting requests get one keyframe produced after them');
  assert.equal(throttle.requested, 6);
  assert.equal(throttle.sent, 2);
});

test('cancel drops a deferred keyframe (the encoder is gone)', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let forced = 0;
  const throttle = new KeyframeThrottle(500, () => forced++);
  throttle.request();
  throttle.request();
  throttle.cancel();
  t.mock.timers.tick(1000);
  assert.equal(forced, 1);
});
