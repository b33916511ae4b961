import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from '../../src/util/serial-queue.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('tasks run one at a time in push order, each caller gets its own result', async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  const a = queue.push(async () => { log.push('a start'); await tick(20); log.push('a end'); return 1; });
  const b = queue.push(() => { log.push('b'); return 2; });
  assert.deepEqual(await Promise.all([a, b]), [1, 2]);
  assert.deepEqual(log, ['a start', 'a end', 'b']);
});

test('a failing task rejects its own caller and does not stop the next one', async () => {
  const queue = new SerialQueue();
  const failed = queue.push(async () => { throw new Error('boom'); });
  const next = queue.push(async () => 'ran');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'ran');
  await queue.idle();
});
