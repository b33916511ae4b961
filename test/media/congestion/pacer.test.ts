import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer, type PacerClock } from '../../../src/media/congestion/pacer.js';

/** A clock the test advances by hand; scheduled callbacks run when their time comes. */
function manualClock(): PacerClock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  const timers: { atMs: number; callback: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    schedule(delayMs, callback) {
      const timer = { atMs: now + delayMs, callback, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => !t.cancelled && t.atMs <= end).sort((a, b) => a.atMs - b.atMs)[0];
        if (!due) break;
        timers.splice(timers.indexOf(due), 1);
        now = due.atMs;
        due.callback();
      }
      now = end;
    },
    pending: () => timers.filter((t) => !t.cancelled).length,
  };
}

test('a keyframe is spread at the pacing rate, in order', () => {
  const clock = manualClock();
  const sent: { id: number; atMs: number }[] = [];
  // 1 Mbit/s target × 2.5 = 312.5 bytes/ms: a 1200-byte packet every ~3.84 ms.
  const pacer = new Pacer<number>(1_000_000, (id) => sent.push({ id, atMs: clock.now() }), clock);
  for (let id = 0; id < 20; id++) pacer.enqueue(id, 1200);
  assert.ok(sent.length <= 2, `only the first tick's budget leaves at once (${sent.length})`);
  clock.advance(200);
  assert.deepEqual(sent.map((s) => s.id), [...Array(20).keys()], 'every packet, in order');
  const spanMs = sent.at(-1)!.atMs - sent[0]!.atMs;
  // 24 000 bytes at 312.5 bytes/ms is 76.8 ms; the 5 ms ticks round it.
  assert.ok(spanMs >= 65 && spanMs <= 85, `spread over ${spanMs} ms`);
  const gaps = sent.slice(1).map((s, i) => s.atMs - sent[i]!.atMs);
  assert.ok(Math.max(...gaps) <= 5, 'no gap longer than a tick');
  assert.equal(clock.pending(), 0, 'an empty queue leaves no timer running');
});

test('the queue never delays a packet more than its bound, whatever the target', () => {
  const clock = manualClock();
  const delays: number[] = [];
  const pacer = new Pacer<number>(100_000, (queuedAt) => delays.push(clock.now() - queuedAt), clock, { maxQueueDelayMs: 100 });
  // 120 kB at once against a 250 kbit/s pacing rate would take ~4 s to leave.
  for (let i = 0; i < 100; i++) pacer.enqueue(clock.now(), 1200);
  clock.advance(1000);
  assert.equal(delays.length, 100);
  assert.ok(Math.max(...delays) <= 105, `longest wait ${Math.max(...delays)} ms`);
});

test('a new target applies to what is queued, and close drops the queue', () => {
  const clock = manualClock();
  const sent: number[] = [];
  const pacer = new Pacer<number>(1_000_000, (id) => sent.push(id), clock, { maxQueueDelayMs: 10_000 });
  for (let id = 0; id < 50; id++) pacer.enqueue(id, 1200);
  pacer.setTargetBitrate(4_000_000);
  clock.advance(50);
  // 10 Mbit/s pacing is 1250 bytes/ms: ~52 packets in 50 ms; at the old rate it would have been ~13.
  assert.ok(sent.length >= 40, `${sent.length} sent after the rate went up`);
  for (let id = 50; id < 60; id++) pacer.enqueue(id, 1200);
  pacer.close();
  const count = sent.length;
  clock.advance(1000);
  pacer.enqueue(99, 1200);
  assert.equal(sent.length, count, 'nothing leaves after close');
  assert.equal(pacer.length, 0);
});

test('steady video below the pacing rate passes without waiting', () => {
  const clock = manualClock();
  const delays: number[] = [];
  const pacer = new Pacer<number>(2_500_000, (queuedAt) => delays.push(clock.now() - queuedAt), clock);
  // 30 fps at 2.5 Mbit/s: ~10 kB a frame, 9 packets.
  for (let frame = 0; frame < 30; frame++) {
    for (let i = 0; i < 9; i++) pacer.enqueue(clock.now(), 1160);
    clock.advance(33);
  }
  assert.equal(delays.length, 270);
  assert.ok(Math.max(...delays) <= 20, `a frame leaves within ${Math.max(...delays)} ms`);
});
