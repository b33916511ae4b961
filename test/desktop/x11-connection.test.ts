import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeEvent, XConnection } from '../../src/x11/x11-connection.js';
import { VirtualDesktop } from '../../src/desktop/index.js';

describe('XConnection: requests that never desynchronise', () => {
  let desktop: VirtualDesktop;
  let conn: XConnection;

  before(async () => {
    desktop = new VirtualDesktop({ width: 320, height: 240, app: null });
    await desktop.start();
    conn = await XConnection.connect(desktop.display, { xtest: true });
  });

  after(async () => {
    conn?.destroy();
    await desktop?.stop();
  });

  it('keeps matching replies after the 16-bit sequence number wraps (70 000 requests)', async () => {
    const noop = Buffer.from([127, 0, 1, 0]); // NoOperation
    for (let i = 0; i < 70_000; i++) conn.send(noop);
    conn.fakeInput(FakeEvent.Motion, 0, 5, 6);
    await conn.sync();
    const p = await conn.queryPointer();
    assert.deepEqual([p.rootX, p.rootY], [5, 6]);
    assert.deepEqual(await conn.getGeometry(), { x: 0, y: 0, width: 320, height: 240 });
  });

  it('clamps FakeInput arguments to their wire range instead of throwing half-way', async () => {
    assert.doesNotThrow(() => conn.fakeInput(FakeEvent.Motion, 0, 1e12, -1e12));
    assert.doesNotThrow(() => conn.fakeInput(FakeEvent.Motion, 0, NaN, Infinity));
    assert.throws(() => conn.changeKeyboardMapping(300, [0x61]), RangeError);
    await conn.sync();
    assert.ok(await conn.queryPointer());
  });

  it('reports X errors as events, and a closed connection rejects pending and later requests', async () => {
    const other = await XConnection.connect(desktop.display);
    const error = new Promise<number>((resolve) => other.once('x-error', (e) => resolve(e.error)));
    other.selectInput(0x7fffffff, 0); // no such window
    assert.equal(await error, 3, 'BadWindow');
    const pending = other.sync();
    other.destroy();
    await assert.rejects(pending, /closed/);
    await assert.rejects(other.getGeometry(), /closed/);
  });

  it('connect() to a display that is not there fails fast', async () => {
    await assert.rejects(XConnection.connect(':4999', { timeoutMs: 2000 }));
  });
});
