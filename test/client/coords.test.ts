import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientToVideo, displayedRect, parseObjectFit, parseObjectPosition, type ObjectPosition } from '../../src/client/index.js';

// A 1280×720 stream in an 800×600 element at (100, 50): `contain` letterboxes top and bottom.
const box = { left: 100, top: 50, width: 800, height: 600 };

test('contain letterboxes a 16:9 video in a 4:3 box: bars top and bottom', () => {
  const r = displayedRect(box, 1280, 720, 'contain');
  assert.deepEqual(r, { left: 100, top: 50 + 75, width: 800, height: 450 });
});

test('contain maps the picture corners and centre onto the video pixel grid', () => {
  assert.deepEqual(clientToVideo(100, 125, box, 1280, 720), { x: 0, y: 0, inside: true });
  assert.deepEqual(clientToVideo(500, 350, box, 1280, 720), { x: 640, y: 360, inside: true });
  assert.deepEqual(clientToVideo(899.9, 574.9, box, 1280, 720), { x: 1279, y: 719, inside: true });
});

test('a point in a letterbox bar is outside and clamps to the nearest edge', () => {
  assert.deepEqual(clientToVideo(500, 60, box, 1280, 720), { x: 640, y: 0, inside: false });
  assert.deepEqual(clientToVideo(500, 640, box, 1280, 720), { x: 640, y: 719, inside: false });
});

test('contain pillarboxes a 4:3 video in a wide box: bars left and right', () => {
  const wide = { left: 0, top: 0, width: 1600, height: 600 };
  assert.deepEqual(displayedRect(wide, 800, 600, 'contain'), { left: 400, top: 0, width: 800, height: 600 });
  assert.equal(clientToVideo(399, 300, wide, 800, 600)!.inside, false);
  assert.deepEqual(clientToVideo(400, 300, wide, 800, 600), { x: 0, y: 300, inside: true });
});

test('CSS scaling: a 640×360 box shows a 1920×1080 video at one third', () => {
  const small = { left: 0, top: 0, width: 640, height: 360 };
  assert.deepEqual(clientToVideo(320, 180, small, 1920, 1080), { x: 960, y: 540, inside: true });
  assert.deepEqual(clientToVideo(10, 20, small, 1920, 1080), { x: 30, y: 60, inside: true });
});

test('fill stretches without bars', () => {
  assert.deepEqual(clientToVideo(100, 50, box, 1280, 720, 'fill'), { x: 0, y: 0, inside: true });
  assert.deepEqual(clientToVideo(500, 350, box, 1280, 720, 'fill'), { x: 640, y: 360, inside: true });
});

test('cover crops: the box edge maps inside the video, not to its edge', () => {
  const r = displayedRect(box, 1280, 720, 'cover');
  assert.equal(r.height, 600);
  assert.ok(Math.abs(r.width - 1066.67) < 0.01);
  const p = clientToVideo(100, 350, box, 1280, 720, 'cover')!;
  assert.equal(p.inside, true);
  // 1066.67 px wide, 133.33 px cut off each side: the box's left edge is 1/8 into the picture.
  assert.equal(p.x, 160);
  assert.equal(p.y, 360);
});

test('none shows the video at its own size, scale-down never enlarges', () => {
  const big = { left: 0, top: 0, width: 1000, height: 1000 };
  assert.deepEqual(displayedRect(big, 200, 100, 'none'), { left: 400, top: 450, width: 200, height: 100 });
  assert.deepEqual(displayedRect(big, 200, 100, 'scale-down'), { left: 400, top: 450, width: 200, height: 100 });
  assert.deepEqual(displayedRect(big, 2000, 1000, 'scale-down'), { left: 0, top: 250, width: 1000, height: 500 });
});

test('object-position moves the letterboxed picture', () => {
  const topLeft: ObjectPosition = parseObjectPosition('0% 0%');
  assert.deepEqual(displayedRect(box, 1280, 720, 'contain', topLeft), { left: 100, top: 50, width: 800, height: 450 });
  assert.deepEqual(clientToVideo(100, 50, box, 1280, 720, 'contain', topLeft), { x: 0, y: 0, inside: true });
  assert.equal(clientToVideo(500, 560, box, 1280, 720, 'contain', topLeft)!.inside, false);
});

test('object-position parsing: percentages, pixels, keywords in either order', () => {
  assert.deepEqual(parseObjectPosition('50% 50%'), { x: { fraction: 0.5, px: 0 }, y: { fraction: 0.5, px: 0 } });
  assert.deepEqual(parseObjectPosition('10px 0px'), { x: { fraction: 0, px: 10 }, y: { fraction: 0, px: 0 } });
  assert.deepEqual(parseObjectPosition('top left'), { x: { fraction: 0, px: 0 }, y: { fraction: 0, px: 0 } });
  assert.deepEqual(parseObjectPosition('right bottom'), { x: { fraction: 1, px: 0 }, y: { fraction: 1, px: 0 } });
  assert.deepEqual(parseObjectPosition(''), parseObjectPosition('50% 50%'));
  assert.equal(parseObjectFit('cover'), 'cover');
  assert.equal(parseObjectFit('bogus'), 'contain');
});

test('no mapping before the first frame (video size 0) or for an element without area', () => {
  assert.equal(clientToVideo(10, 10, box, 0, 0), null);
  assert.equal(clientToVideo(10, 10, { left: 0, top: 0, width: 0, height: 0 }, 1280, 720), null);
});

test('outside the element entirely is outside, clamped', () => {
  assert.deepEqual(clientToVideo(-500, -500, box, 1280, 720), { x: 0, y: 0, inside: false });
  assert.deepEqual(clientToVideo(5000, 5000, box, 1280, 720), { x: 1279, y: 719, inside: false });
});
