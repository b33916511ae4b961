import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { VirtualDesktop } from '../../src/desktop/index.js';
import type { XConnection } from '../../src/x11/x11-connection.js';
import type { X11PeerInput } from '../../src/input/peer-input.js';
import { X11InputInjector } from '../../src/input/x11-injector.js';
import { Observer } from '../helpers/x-observer.js';

const run = promisify(execFile);

describe('input survives the display going away and coming back', () => {
  let desktop: VirtualDesktop;
  let injector: X11InputInjector;
  const observers: Observer[] = [];

  before(async () => {
    desktop = new VirtualDesktop({ width: 640, height: 480, app: null, restartDelayMs: { min: 50, max: 200 } });
    await desktop.start();
    injector = await X11InputInjector.create({ display: () => desktop.readyDisplay, reconnectDelayMs: { min: 50, max: 200 } });
    desktop.on('display-ready', () => injector.reconnect());
  });

  after(async () => {
    await injector?.close();
    for (const o of observers) await o.close();
    await desktop?.stop();
  });

  async function observe(): Promise<Observer> {
    const o = await Observer.open(desktop.display);
    observers.push(o);
    return o;
  }

  it('releases what was held when only the connection dropped (the server kept the keys down)', async () => {
    const observer = await observe();
    const peer = injector.forPeer('p') as X11PeerInput;
    peer.key({ key: 'a', code: 'KeyA', action: 'down' });
    peer.mouseClick({ x: 3, y: 3, action: 'down' });
    await injector.flush();
    assert.equal((await observer.keysDown()).length, 1);
    const connected = once(injector, 'connected');
    (injector as unknown as { link: { conn: XConnection } }).link.conn.destroy(); // as if the socket broke
    await connected;
    assert.deepEqual(peer.holding, { keys: 0, buttons: 0 }, 'the peer holds nothing any more');
    await injector.flush();
    await observer.settle();
    assert.deepEqual(await observer.keysDown(), []);
    assert.equal((await observer.pointer()).buttons, 0);
  });

  it('reconnects to the restarted Xvfb: events while it is down are dropped, then input works again', async () => {
    const peer = injector.forPeer('q');
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'down' });
    await injector.flush();
    const disconnected = once(injector, 'disconnected');
    const connected = once(injector, 'connected');
    const { stdout } = await run('pgrep', ['-P', String(desktop.xvfbPid)]);
    process.kill(Number(stdout.trim()), 'SIGKILL');
    await disconnected;
    assert.equal(injector.connected, false);
    peer.mouseMove({ x: 10, y: 10 }); // dropped, never throws
    peer.key({ key: 'x' });
    peer.releaseAll();
    await connected;
    assert.deepEqual(injector.screenSize, { width: 640, height: 480 }, 'connected to our desktop, not another on the old number');
    assert.equal(injector.stats().display, desktop.display);
    const observer = await observe();
    peer.mouseMove({ x: 320, y: 240 });
    await injector.flush();
    await observer.settle();
    assert.deepEqual(await observer.pointer(), { x: 320, y: 240, buttons: 0 });
    peer.key({ key: 'z' });
    await injector.flush();
    await observer.settle();
    assert.deepEqual((await observer.typedKeysyms()).filter((k) => k < 0xff00), [0x7a]);
    assert.deepEqual(await observer.keysDown(), []);
  });
});
