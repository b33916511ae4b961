import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { VirtualDesktop, type ScreenSize } from '../../src/desktop/index.js';
import { ScreenResizer } from '../../src/desktop/resize.js';
import { XConnection } from '../../src/x11/x11-connection.js';

const run = promisify(execFile);

async function xdpyinfoSize(display: string): Promise<string> {
  const { stdout } = await run('xdpyinfo', ['-display', display]);
  return /dimensions:\s+(\d+x\d+) pixels/.exec(stdout)?.[1] ?? 'none';
}

async function freshRootSize(display: string): Promise<ScreenSize> {
  const conn = await XConnection.connect(display);
  try {
    const { width, height } = await conn.getGeometry();
    return { width, height };
  } finally {
    conn.destroy();
  }
}

describe('ScreenResizer: the desktop screen resized through RandR', () => {
  let desktop: VirtualDesktop;
  let resizer: ScreenResizer;
  let appWindow = 0;

  before(async () => {
    desktop = new VirtualDesktop({ width: 1280, height: 720, audio: false });
    const mapped = once(desktop, 'app-window') as Promise<[number]>;
    await desktop.start();
    [appWindow] = await mapped;
    resizer = new ScreenResizer(() => desktop.display);
  });

  after(async () => {
    await desktop?.stop();
  });

  const appWindowSize = async (): Promise<ScreenSize> => {
    const conn = await XConnection.connect(desktop.display);
    try {
      const { width, height } = await conn.getGeometry(appWindow);
      return { width, height };
    } finally {
      conn.destroy();
    }
  };
  const until = async (cond: () => Promise<boolean>, what: string): Promise<void> => {
    for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await cond()) return;
    assert.fail(`timed out waiting for ${what}`);
  };

  it('resizes to 1024x640 and back; xdpyinfo, xrandr, a fresh X client and the desktop agree; the xterm fills it', async () => {
    for (const size of [
      { width: 1024, height: 640 },
      { width: 1280, height: 720 },
    ]) {
      const desktopSaw = once(desktop, 'resize') as Promise<[ScreenSize]>;
      const emitted = once(resizer, 'resize') as Promise<[ScreenSize]>;
      assert.deepEqual(await resizer.resize(size.width, size.height), size);
      assert.deepEqual((await emitted)[0], size);
      assert.deepEqual((await desktopSaw)[0], size);
      assert.deepEqual(desktop.size, size);
      assert.equal(await xdpyinfoSize(desktop.display), `${size.width}x${size.height}`);
      assert.deepEqual((await resizer.query()).current, size);
      assert.deepEqual(await freshRootSize(desktop.display), size);
      await until(async () => JSON.stringify(await appWindowSize()) === JSON.stringify(size), `the xterm at ${size.width}x${size.height}`);
    }
  });

  it('makes sides even and clamps them to the server maximum and the configured one', async () => {
    assert.deepEqual(await resizer.resize(801, 599), { width: 800, height: 598 });
    assert.deepEqual(await resizer.resize(5000, 5000), { width: 1280, height: 720 });
    const bounded = new ScreenResizer(() => desktop.display, { maxWidth: 1000, maxHeight: 700 });
    assert.deepEqual(await bounded.resize(1280, 720), { width: 1000, height: 700 });
    assert.deepEqual(await freshRootSize(desktop.display), { width: 1000, height: 700 });
    await assert.rejects(resizer.resize(10, 500), RangeError);
    await assert.rejects(resizer.resize(Number.NaN, 500), RangeError);
  });

  it('removes the modes it no longer uses', async () => {
    for (const w of [900, 902, 904, 906]) await resizer.resize(w, 600);
    const state = await resizer.query();
    const ours = state.modes.filter((m) => /^(900|902|904)x600$/.test(m));
    assert.deepEqual(ours, []);
    assert.ok(state.modes.includes('906x600'));
    await resizer.resize(1280, 720);
  });
});

describe('VirtualDesktop maxSize: a screen that can grow past its start size', () => {
  let desktop: VirtualDesktop;

  before(async () => {
    desktop = new VirtualDesktop({ width: 800, height: 600, maxSize: { width: 1600, height: 1000 }, app: null, audio: false });
    await desktop.start();
  });

  after(async () => {
    await desktop?.stop();
  });

  it('starts at its size, grows up to the maximum and no further', async () => {
    assert.deepEqual(desktop.size, { width: 800, height: 600 });
    assert.deepEqual(await freshRootSize(desktop.display), { width: 800, height: 600 });
    const resizer = new ScreenResizer(() => desktop.display);
    assert.deepEqual((await resizer.query()).maximum, { width: 1600, height: 1000 });
    assert.deepEqual(await resizer.resize(1440, 900), { width: 1440, height: 900 });
    assert.deepEqual(await resizer.resize(4000, 4000), { width: 1600, height: 1000 });
    assert.equal(await xdpyinfoSize(desktop.display), '1600x1000');
  });

  it('refuses a maximum smaller than the size', () => {
    assert.throws(() => new VirtualDesktop({ width: 800, height: 600, maxSize: { width: 640, height: 600 } }), RangeError);
  });
});
