import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WindowBudget } from '../../src/signaling/rate-limiter.js';

test('a window budget grants N a second, counts the refusals since the last grant, and opens a new window a second later', () => {
  const budget = new WindowBudget(2);
  assert.deepEqual([budget.take(5000), budget.take(5100), budget.take(5200), budget.take(5999)], [true, true, false, false]);
  assert.equal(budget.takeRefused(), 2);
  assert.equal(budget.takeRefused(), 0, 'reading the count resets it');
  assert.equal(budget.take(6000), true, 'a new window a second after the first take');
});
