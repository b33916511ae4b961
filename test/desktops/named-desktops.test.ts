import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { Browser } from 'playwright-core';
import { launchChromium, videoPixels } from '../helpers/chromium.js';
import { descendants, waitUntil } from '../helpers/processes.js';
import { health, startServer, type TestServer } from '../helpers/server.js';
import { framesAdvance, openViewer } from '../helpers/viewer-page.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { Observer } from '../helpers/x-observer.js';

/** Each desktop paints its root window one colour, so its video says which desktop it is. */
const COLOURED = (colour: string) => `${colour}:xsetroot -solid ${colour}; exec sleep 100000`;

interface DesktopHealth {
  name: string;
  display?: string;
  viewers: number;
}

async function desktopsOf(server: TestServer): Promise<DesktopHealth[]> {
  return (await health(server)).desktops as DesktopHealth[];
}

const peers: WsPeer[] = [];
async function open(url: string, protocols?: string[]): Promise<WsPeer> {
  const peer = await WsPeer.open(url, {}, protocols);
  peers.push(peer);
  return peer;
}

describe('named desktops on one server: each /ws/NAME has its own screen, video and input', () => {
  let server: TestServer;
  let browser: Browser;
  const observers: Observer[] = [];
  before(async () => {
    server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--resume-grace', '0', '--desktop', COLOURED('red'), '--desktop', COLOURED('blue')]);
  });
  after(async () => {
    for (const p of peers) p.close();
    for (const o of observers) await o.close();
    await browser?.close();
    await server?.stop();
  });

  test('/healthz lists both desktops, each on its own X display with its own Xvfb', async () => {
    const desktops = await desktopsOf(server);
    assert.deepEqual(desktops.map((d) => d.name), ['red', 'blue']);
    assert.ok(desktops[0]!.display && desktops[1]!.display);
    assert.notEqual(desktops[0]!.display, desktops[1]!.display);
    assert.equal(descendants(server.pid).filter((p) => p.command.startsWith('Xvfb')).length, 2);
  });

  test('input sent on /ws/NAME reaches that desktop\'s X server and not the other\'s', async () => {
    const [red, blue] = await desktopsOf(server);
    const redX = await Observer.open(red!.display!);
    const blueX = await Observer.open(blue!.display!);
    observers.push(redX, blueX);
    const redPeer = await open(`${server.wsUrl}/red`);
    assert.equal((await redPeer.hello({ capabilities: ['mouse-press-release'] })).data.session_config.input_enabled, true);
    const bluePeer = await open(`${server.wsUrl}/blue`);
    // Control is per desktop: the first peer of blue controls blue, though red has a controller.
    assert.equal((await bluePeer.hello({ capabilities: ['mouse-press-release'] })).data.session_config.input_enabled, true);
    redPeer.request('mouse-move', { x: 11, y: 22 });
    bluePeer.request('mouse-move', { x: 133, y: 144 });
    await waitUntil('red\'s pointer at 11,22', async () => {
      const p = await redX.pointer();
      return p.x === 11 && p.y === 22;
    });
    await waitUntil('blue\'s pointer at 133,144', async () => {
      const p = await blueX.pointer();
      return p.x === 133 && p.y === 144;
    });
    redPeer.request('mouse-move', { x: 50, y: 60 });
    await waitUntil('red\'s pointer at 50,60', async () => {
      const p = await redX.pointer();
      return p.x === 50 && p.y === 60;
    });
    await blueX.settle();
    const bluePointer = await blueX.pointer();
    assert.deepEqual([bluePointer.x, bluePointer.y], [133, 144], 'red\'s input moved nothing on blue');
    redPeer.close();
    bluePeer.close();
    // Their full-screen windows would hide the colours the video test looks for.
    for (const observer of observers.splice(0)) await observer.close();
  });

  test('plain /ws opens the first desktop; an unknown name gets MEDIA_UNAVAILABLE naming it, then 1013', async () => {
    const plain = await open(server.wsUrl);
    await plain.hello();
    await waitUntil('the plain /ws connection counts on red', async () => (await desktopsOf(server))[0]!.viewers === 1);
    assert.equal((await desktopsOf(server))[1]!.viewers, 0);
    plain.close();
    const unknown = await open(`${server.wsUrl}/nosuch`, ['streamgate']);
    const error = await unknown.next((m) => m.type === 'error');
    assert.equal(error.error.code, 'MEDIA_UNAVAILABLE');
    assert.equal(error.error.details, 'desktop=nosuch');
    assert.equal(await unknown.closed(), 1013);
  });

  test('the viewer with ?desktop=NAME shows that desktop: red on red, blue on blue', async () => {
    browser = await launchChromium();
    for (const [name, expected] of [['red', [255, 0, 0]], ['blue', [0, 0, 255]]] as const) {
      const page = await openViewer(browser, `${server.url}/?desktop=${name}`);
      await framesAdvance(page);
      // Away from the centre and from where the input test left the pointers: the captured pointer is drawn.
      let seen: number[] = [];
      await waitUntil(`the ${name} desktop's video is ${name}`, async () => {
        const [[r, g, b]] = (await videoPixels(page, 'video', [[0.85, 0.15]])) as [[number, number, number]];
        seen = [r, g, b];
        return Math.abs(r - expected[0]) < 40 && Math.abs(g - expected[1]) < 40 && Math.abs(b - expected[2]) < 40;
      }, 20_000).catch((err: Error) => {
        throw new Error(`${err.message}; last pixel seen: ${seen.join(',')}`);
      });
      await page.close();
    }
  });

  test('the viewer lists the desktops it may open and opens the one picked', async () => {
    browser ??= await launchChromium();
    const page = await openViewer(browser, `${server.url}/`);
    const picker = page.locator('#desktop');
    await picker.waitFor({ state: 'visible', timeout: 15_000 });
    assert.deepEqual(await picker.locator('option').allTextContents(), ['red', 'blue']);
    assert.equal(await picker.inputValue(), 'red', 'plain /ws is the first desktop');
    await picker.selectOption('blue');
    await page.waitForURL(/[?&]desktop=blue/, { timeout: 15_000 });
    // The reloaded page's picker comes with its app, which the boot runs once blue's first frame shows (web/boot.ts).
    await page.waitForFunction(() => Boolean(window.streamgate?.client), null, { timeout: 15_000 });
    await picker.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.locator('#desktop').inputValue(), 'blue');
    await page.close();
  });
});

describe('a JWT\'s desktops claim grants desktops one by one, each with its role', () => {
  const SECRET = 'an-hs256-secret-that-is-at-least-32-chars';
  let server: TestServer;
  const jwt = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
  before(async () => {
    // Virtual desktops: only where there is input does the role show (input_enabled).
    server = await startServer(['--jwt-secret', SECRET, '--source', 'virtual', '--resolution', '320x240', '--app', 'sleep 100000', '--resume-grace', '0', '--desktop', 'alpha', '--desktop', 'beta']);
  });
  after(async () => {
    for (const p of peers) p.close();
    await server?.stop();
  });

  test('a desktop the claim leaves out is UNAUTHORIZED; one it grants opens with that desktop\'s role', async () => {
    const token = await jwt({ role: 'control', desktops: { alpha: 'control', beta: 'view' } });
    const onlyAlpha = await jwt({ role: 'control', desktops: { alpha: 'view' } });
    const alpha = await open(`${server.wsUrl}/alpha?token=${token}`);
    assert.equal((await alpha.hello()).data.session_config.input_enabled, true);
    const beta = await open(`${server.wsUrl}/beta?token=${token}`);
    assert.equal((await beta.hello()).data.session_config.input_enabled, false, 'the claim makes this token a viewer of beta');
    const refused = await open(`${server.wsUrl}/beta?token=${onlyAlpha}`);
    const error = await refused.next((m) => m.type === 'error');
    assert.equal(error.error.code, 'UNAUTHORIZED');
    assert.match(error.error.message, /desktop "beta"/);
    assert.equal(await refused.closed(), 1008);
    // Plain /ws is alpha, the first desktop, under alpha's grant.
    const plain = await open(`${server.wsUrl}?token=${onlyAlpha}`);
    assert.equal((await plain.hello()).data.session_config.input_enabled, false);
    const noClaim = await open(`${server.wsUrl}/beta?token=${await jwt({ role: 'control' })}`);
    assert.equal((await noClaim.hello()).data.session_config.input_enabled, true, 'without the claim a token grants every desktop');
    const malformed = await open(`${server.wsUrl}/alpha?token=${await jwt({ role: 'control', desktops: { alpha: 'admin' } })}`);
    assert.equal((await malformed.next((m) => m.type === 'error')).error.code, 'UNAUTHORIZED');
  });
});
