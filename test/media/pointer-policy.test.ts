import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PointerPolicy } from '../../src/media/pointer-policy.js';
import { ViewerCursor } from '../../src/media/viewer-cursor.js';

/** Subscriptions are keyed by object (the pipeline's subscriber); one per name here. */
const subscriptions = new Map<string, object>();
function sub(name: string): object {
  if (!subscriptions.has(name)) subscriptions.set(name, {});
  return subscriptions.get(name)!;
}

function policy(): { policy: PointerPolicy; applied: boolean[] } {
  const applied: boolean[] = [];
  return { policy: new PointerPolicy((show) => applied.push(show)), applied };
}

test('the picture loses the pointer only while every viewer of the encoder draws the cursor', () => {
  const { policy: p, applied } = policy();
  const capable = new ViewerCursor(() => false);
  capable.drawsCursor = true;
  assert.equal(p.shown, true, 'nobody watching: the pointer stays in');
  p.add(sub('capable'), capable);
  assert.deepEqual(applied, [false]);
  p.add(sub('seed'), undefined);
  assert.deepEqual(applied, [false, true], 'a viewer without a say (a seed client, WHEP, Janus) brings it back');
  p.remove(sub('seed'));
  assert.deepEqual(applied, [false, true, false]);
  p.remove(sub('capable'));
  assert.deepEqual(applied, [false, true, false, true], 'the last viewer gone: in again, for whoever comes next');
});

test("a viewer that stops drawing the cursor (a take-over without the capability) puts the pointer back, and hears so", () => {
  const { policy: p, applied } = policy();
  const a = new ViewerCursor(() => false);
  const b = new ViewerCursor(() => false);
  a.drawsCursor = true;
  b.drawsCursor = true;
  const heard: boolean[] = [];
  a.on('in-picture', (shown) => heard.push(shown));
  p.add(sub('a'), a);
  p.add(sub('b'), b);
  assert.equal(a.inPicture, false);
  b.drawsCursor = false;
  assert.deepEqual(applied, [false, true]);
  assert.equal(a.inPicture, true);
  assert.deepEqual(heard, [false, true]);
});

test('between two encoders a viewer keeps what it had; while it watches two, either showing the pointer counts', () => {
  const first = policy();
  const second = policy();
  const viewer = new ViewerCursor(() => false);
  viewer.drawsCursor = true;
  first.policy.add(sub('v'), viewer);
  assert.equal(viewer.inPicture, false);
  first.policy.remove(sub('v'));
  assert.equal(viewer.inPicture, false, 'no picture for a moment: unchanged');
  second.policy.add(sub('seed'), undefined);
  second.policy.add(sub('v'), viewer);
  assert.equal(viewer.inPicture, true);
  first.policy.add(sub('v'), viewer);
  assert.equal(viewer.inPicture, true, 'two pictures, one with the pointer');
  second.policy.remove(sub('v'));
  assert.equal(viewer.inPicture, false);
});
