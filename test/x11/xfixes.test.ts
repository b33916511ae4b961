import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VirtualDesktop } from '../../src/desktop/index.js';
import { XConnection } from '../../src/x11/x11-connection.js';
import { internAtom, XFixes } from '../../src/x11/xfixes.js';

describe('XFixes: the cursor and selection requests on our own packing', () => {
  let desktop: VirtualDesktop;
  let conn: XConnection;
  let xfixes: XFixes;

  before(async () => {
    desktop = new VirtualDesktop({ width: 320, height: 240, app: null, audio: false });
    await desktop.start();
    conn = await XConnection.connect(desktop.display);
    xfixes = await XFixes.init(conn);
  });

  after(async () => {
    conn?.destroy();
    await desktop?.stop();
  });

  it('announces a version new enough for cursor and selection events', () => {
    assert.ok(xfixes.version.major >= 2, `XFIXES ${xfixes.version.major}.${xfixes.version.minor}`);
  });

  it('keeps matching GetCursorImage replies (pixels and all) after the sequence number wraps', async () => {
    const first = await xfixes.getCursorImage();
    assert.equal(first.argb.length, first.width * first.height);
    const noop = Buffer.from([127, 0, 1, 0]);
    for (let i = 0; i < 70_000; i++) conn.send(noop);
    const again = await xfixes.getCursorImage();
    assert.equal(again.serial, first.serial);
    assert.deepEqual(again.argb, first.argb);
    assert.deepEqual(await conn.getGeometry(), { x: 0, y: 0, width: 320, height: 240 });
  });

  it('interns atoms: the same name gives the same atom, predefined ones their number', async () => {
    const clipboard = await internAtom(conn, 'CLIPBOARD');
    assert.ok(clipboard > 68, 'not a predefined atom');
    assert.equal(await internAtom(conn, 'CLIPBOARD'), clipboard);
    assert.equal(await internAtom(conn, 'PRIMARY'), 1);
    assert.throws(() => internAtom(conn, ''), RangeError);
  });

  it('decodes only XFIXES events', () => {
    assert.equal(xfixes.decode({ type: 22, seq: 1, rawData: Buffer.alloc(32) }), null);
    assert.equal(xfixes.decode({ type: 22, seq: 1 }), null);
  });

  it('a request on a closed connection rejects instead of hanging', async () => {
    const other = await XConnection.connect(desktop.display);
    const fixes = await XFixes.init(other);
    other.destroy();
    await assert.rejects(fixes.getCursorImage(), /closed/);
  });
});
