import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CursorWatcher, type CursorShape } from '../../src/desktop/cursor-watcher.js';
import { VirtualDesktop } from '../../src/desktop/index.js';
import { FakeEvent, XConnection } from '../../src/x11/x11-connection.js';

/** The PNG's IHDR size and its pixels' alpha channel, read back with zlib alone. */
function readPng(png: Buffer): { width: number; height: number; opaque: number } {
  assert.equal(png.subarray(0, 8).toString('latin1'), '\x89PNG\r\n\x1a\n');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, (width * 4 + 1) * height);
  let opaque = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (raw[y * (width * 4 + 1) + 1 + x * 4 + 3]! > 0) opaque++;
  return { width, height, opaque };
}

describe('CursorWatcher: the cursor picture and pointer position through XFIXES', () => {
  let desktop: VirtualDesktop;
  let xterm: ChildProcess | undefined;
  let input: XConnection;
  let watcher: CursorWatcher;

  before(async () => {
    desktop = new VirtualDesktop({ width: 640, height: 480, app: null, audio: false });
    await desktop.start();
    xterm = spawn('xterm', ['-geometry', '30x8+0+0'], { env: { ...process.env, DISPLAY: desktop.display }, stdio: 'ignore' });
    input = await XConnection.connect(desktop.display, { xtest: true });
    // The xterm window is mapped once a point inside it has another window than the root under it.
    for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      if ((await input.queryPointer()).child !== 0) break;
      input.fakeInput(FakeEvent.Motion, 0, 20, 20);
    }
    input.fakeInput(FakeEvent.Motion, 0, 600, 450);
    await input.sync();
    watcher = await CursorWatcher.start(desktop.display, { pollIntervalMs: 20 });
  });

  after(async () => {
    watcher?.stop();
    input?.destroy();
    if (xterm && xterm.exitCode === null) {
      xterm.kill('SIGTERM');
      await once(xterm, 'exit');
    }
    await desktop?.stop();
  });

  const moveAndWait = async (x: number, y: number): Promise<CursorShape> => {
    const changed = once(watcher, 'cursor') as Promise<[CursorShape]>;
    input.fakeInput(FakeEvent.Motion, 0, x, y);
    const [shape] = await Promise.race([changed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no cursor change at ${x},${y}`)), 5000))]);
    return shape;
  };

  it('reports the root cursor at start, the xterm I-beam over the xterm, with different serials and plausible pictures', async () => {
    const root = watcher.current;
    assert.ok(root, 'a cursor at start');
    const beam = await moveAndWait(20, 20);
    assert.notEqual(beam.serial, root.serial);
    for (const shape of [root, beam]) {
      assert.ok(shape.width >= 4 && shape.width <= 64 && shape.height >= 8 && shape.height <= 64, `size ${shape.width}x${shape.height}`);
      assert.ok(shape.xhot < shape.width && shape.yhot < shape.height, `hotspot ${shape.xhot},${shape.yhot}`);
      const png = readPng(shape.png);
      assert.deepEqual([png.width, png.height], [shape.width, shape.height]);
      assert.ok(png.opaque > 0, 'some visible pixels');
    }
    // The I-beam is tall and thin; its hotspot sits near the middle.
    assert.ok(beam.height > beam.width, `I-beam ${beam.width}x${beam.height}`);
  });

  it('serves a cursor that comes back from its cache, without fetching it again', async () => {
    const fetched = watcher.stats.fetched;
    const hits = watcher.stats.cacheHits;
    const back = await moveAndWait(600, 450);
    const again = await moveAndWait(20, 20);
    assert.notEqual(back.serial, again.serial);
    assert.equal(watcher.stats.fetched, fetched, 'no new picture fetched');
    assert.ok(watcher.stats.cacheHits >= hits + 2, `cache hits ${watcher.stats.cacheHits - hits}`);
  });

  it('reports pointer positions as they change', async () => {
    const seen = new Promise<{ x: number; y: number }>((resolve) => {
      const on = (p: { x: number; y: number }): void => {
        if (p.x === 123 && p.y === 234) {
          watcher.off('position', on);
          resolve(p);
        }
      };
      watcher.on('position', on);
    });
    input.fakeInput(FakeEvent.Motion, 0, 123, 234);
    assert.deepEqual(await seen, { x: 123, y: 234 });
    assert.deepEqual(watcher.position, { x: 123, y: 234 });
  });

  it('emits close when stopped', async () => {
    const other = await CursorWatcher.start(desktop.display);
    const closed = once(other, 'close');
    other.stop();
    assert.deepEqual(await closed, [null]);
  });
});
