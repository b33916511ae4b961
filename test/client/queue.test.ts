import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageQueue } from '../../src/client/index.js';

test('queue keeps messages in order until full', () => {
  const q = new MessageQueue<number>(3);
  q.enqueue(1);
  q.enqueue(2);
  assert.equal(q.size, 2);
  assert.equal(q.dequeue(), 1);
  assert.equal(q.dequeue(), 2);
  assert.equal(q.dequeue(), undefined);
});

test('a full queue drops the oldest message, returns it and counts it', () => {
  const q = new MessageQueue<string>(3);
  for (const m of ['a', 'b', 'c']) assert.equal(q.enqueue(m), undefined);
  assert.equal(q.enqueue('d'), 'a');
  assert.equal(q.enqueue('e'), 'b');
  assert.equal(q.size, 3);
  assert.equal(q.dropped, 2);
  assert.deepEqual(q.drain(), ['c', 'd', 'e']);
  assert.equal(q.size, 0);
});

test('peekAll does not remove, clear empties', () => {
  const q = new MessageQueue<number>(5);
  q.enqueue(1);
  q.enqueue(2);
  assert.deepEqual(q.peekAll(), [1, 2]);
  assert.equal(q.size, 2);
  q.clear();
  assert.equal(q.size, 0);
});

test('a zero-size queue keeps nothing; a negative size is refused', () => {
  const q = new MessageQueue<number>(0);
  assert.equal(q.enqueue(7), 7);
  assert.equal(q.size, 0);
  assert.throws(() => new MessageQueue(-1), RangeError);
});
