/**
 * PendingRequests, the one waiter mechanism behind ping, request/reply, connect() and requestOffer():
 * matching by key, settling once, timeouts that name what was awaited, and no timer left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingRequests } from '../../src/client/pending.js';
import { StreamgateError } from '../../src/client/errors.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('resolve settles exactly the waiters whose key matches, and says how many', async () => {
  const pending = new PendingRequests<string, { id: string }>();
  const a = pending.wait({ id: 'a' });
  const b = pending.wait({ id: 'b' });
  const a2 = pending.wait({ id: 'a' });
  assert.deepEqual(pending.keys().map((k) => k.id), ['a', 'b', 'a'], 'oldest first');
  assert.equal(pending.resolve((k) => k.id === 'a', 'for a'), 2);
  assert.deepEqual(await Promise.all([a, a2]), ['for a', 'for a']);
  assert.deepEqual(pending.keys().map((k) => k.id), ['b']);
  assert.equal(pending.resolve((k) => k.id === 'a', 'late'), 0, 'a settled waiter is not settled again');
  assert.equal(pending.rejectAll(new StreamgateError('DISCONNECTED', 'gone', 'client')), 1);
  await assert.rejects(b, (e: StreamgateError) => e.code === 'DISCONNECTED' && e.message === 'gone');
  assert.equal(pending.size, 0);
});

test('a waiter with a timeout fails with TIMEOUT naming what it waited for, and is gone', async () => {
  const pending = new PendingRequests<number, { sequence: number }>();
  const ping = pending.wait({ sequence: 1 }, { ms: 20, what: 'pong' });
  await assert.rejects(ping, (e: StreamgateError) => {
    assert.equal(e.code, 'TIMEOUT');
    assert.equal(e.source, 'client');
    assert.equal(e.message, 'No pong within 20 ms.');
    return true;
  });
  assert.equal(pending.size, 0);
  assert.equal(pending.resolve(() => true, 5), 0, 'a late answer finds nothing to settle');
});

test('settling stops the timer: nothing is left to keep a process alive or fire later', async (t) => {
  const cleared = t.mock.method(globalThis, 'clearTimeout');
  const pending = new PendingRequests<number, null>();
  const answered = pending.wait(null, { ms: 10_000, what: 'answer to get-stats' });
  pending.resolveAll(7);
  assert.equal(await answered, 7);
  const rejected = pending.wait(null, { ms: 10_000, what: 'offer' });
  pending.rejectAll(new StreamgateError('NEGOTIATION_FAILED', 'no', 'client'));
  await assert.rejects(rejected, /no/);
  assert.equal(cleared.mock.callCount(), 2, 'each settled waiter cleared its timer');
});

test('without a timeout a waiter waits until settled', async () => {
  const pending = new PendingRequests<string, null>();
  let settled = false;
  const connected = pending.wait(null).then((v) => {
    settled = true;
    return v;
  });
  await sleep(30);
  assert.equal(settled, false);
  pending.resolveAll('welcome');
  assert.equal(await connected, 'welcome');
});

test('keys are the caller\'s objects: a key updated after the request went out is matched by its new value', async () => {
  const pending = new PendingRequests<void, { id: string }>();
  const offer = pending.wait({ id: 'pending' }, { ms: 1000, what: 'offer' });
  for (const k of pending.keys()) if (k.id === 'pending') k.id = 'msg-7';
  assert.equal(pending.reject((k) => k.id === 'pending', new StreamgateError('TIMEOUT', 'x', 'client')), 0);
  assert.equal(pending.resolve((k) => k.id === 'msg-7', undefined), 1);
  await offer;
});
