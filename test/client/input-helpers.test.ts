import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WheelAccumulator, buttonFromDom, buttonsFromMask, modifiersOf, MetricsRecorder } from '../../src/client/index.js';

test('DOM button numbers map to protocol buttons, including back and forward', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(buttonFromDom), ['left', 'middle', 'right', 'back', 'forward', null]);
});

test('the DOM buttons bitmask (right = 2, middle = 4) maps to the held set', () => {
  assert.deepEqual([...buttonsFromMask(0)], []);
  assert.deepEqual([...buttonsFromMask(1 | 2)].sort(), ['left', 'right']);
  assert.deepEqual([...buttonsFromMask(4)], ['middle']);
  assert.deepEqual([...buttonsFromMask(8 | 16)].sort(), ['back', 'forward']);
});

test('wheel pixels become whole notches, the remainder carries over (touchpads)', () => {
  const w = new WheelAccumulator(100);
  assert.deepEqual(w.add(0, 100, 0), { dx: 0, dy: 1 });
  assert.deepEqual(w.add(0, -300, 0), { dx: 0, dy: -3 });
  assert.deepEqual(w.add(0, 40, 0), { dx: 0, dy: 0 });
  assert.deepEqual(w.add(0, 40, 0), { dx: 0, dy: 0 });
  assert.deepEqual(w.add(0, 40, 0), { dx: 0, dy: 1 }, '3 × 40 px = 1.2 notches');
  assert.deepEqual(w.add(250, 0, 0), { dx: 2, dy: 0 });
});

test('wheel lines count 3 per notch, pages 1 per notch, and notches are bounded', () => {
  const w = new WheelAccumulator();
  assert.deepEqual(w.add(0, 3, 1), { dx: 0, dy: 1 });
  assert.deepEqual(w.add(0, -2, 2), { dx: 0, dy: -2 });
  assert.deepEqual(w.add(0, 1e6, 0), { dx: 0, dy: 100 });
});

test('modifiers are read from the event flags', () => {
  assert.deepEqual(modifiersOf({ shiftKey: true, ctrlKey: false, altKey: true, metaKey: false }), { shift: true, ctrl: false, alt: true, meta: false });
});

test('metrics keep the average of all round trips and a window of the last 100', () => {
  const m = new MetricsRecorder(100);
  for (let i = 1; i <= 150; i++) m.recordLatency(i);
  m.recordLatency(Number.NaN);
  m.sent = 4;
  m.errors = 1;
  const s = m.snapshot(1000, 2, 1);
  assert.equal(s.latencies.length, 100);
  assert.equal(s.latencies[0], 51);
  assert.equal(s.averageLatency, 75.5);
  assert.equal(s.recentLatency, 100.5);
  assert.equal(s.lastLatency, 150);
  assert.equal(s.errorRate, 0.25);
  assert.equal(s.uptime, 0, 'not connected');
  m.markConnected(400);
  assert.equal(m.snapshot(1000, 0, 0).uptime, 600);
});
