import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VirtualDesktop } from '../../src/desktop/index.js';
import type { PeerInput } from '../../src/input/types.js';
import type { X11PeerInput } from '../../src/input/peer-input.js';
import { X11InputInjector } from '../../src/input/x11-injector.js';
import type { ClientMessageData } from '../../src/protocol/index.js';
import { Observer } from '../helpers/x-observer.js';

const run = promisify(execFile);
type Key = ClientMessageData<'key-press'>;

const W = 1280;
const H = 720;
const MODIFIER_KEYSYMS = new Set([0xffe1, 0xffe2, 0xffe3, 0xffe4, 0xffe7, 0xffe8, 0xffe9, 0xffea, 0xffeb, 0xffec]);
const hex = (n: number) => `0x${n.toString(16)}`;

async function waitUntil(cond: () => boolean, timeoutMs = 1000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

describe('X11 XTEST input into a real Xvfb, observed by an independent X client', () => {
  let desktop: VirtualDesktop;
  let injector: X11InputInjector;
  let observer: Observer;
  let peer: X11PeerInput;
  let n = 0;

  before(async () => {
    desktop = new VirtualDesktop({ width: W, height: H, app: null });
    await desktop.start();
    injector = await X11InputInjector.create({ display: desktop.display });
    observer = await Observer.open(desktop.display);
  });

  after(async () => {
    await injector?.close();
    await observer?.close();
    await desktop?.stop();
  });

  beforeEach(async () => {
    peer = injector.forPeer(`peer-${++n}`) as X11PeerInput;
    await settle();
    observer.clear();
  });

  afterEach(async () => {
    // A failed test must not leave anything held for the next one.
    for (const key of [`peer-${n}`, 'a', 'b']) injector.forPeer(key).releaseAll();
    await settle();
  });

  async function settle(): Promise<void> {
    await injector.flush();
    await observer.settle();
  }

  async function assertNothingHeld(): Promise<void> {
    await settle();
    assert.deepEqual(await observer.keysDown(), [], 'keys still down');
    assert.equal((await observer.pointer()).buttons, 0, 'a button is still down');
  }

  /** Moves through `input` and checks where the observer finds the pointer (and no button down). */
  async function moveExpect(input: PeerInput, x: number, y: number, ex: number, ey: number): Promise<void> {
    input.mouseMove({ x, y });
    await settle();
    assert.deepEqual(await observer.pointer(), { x: ex, y: ey, buttons: 0 }, `move to ${x},${y}`);
  }

  /** Keysyms of the non-modifier key presses the observer saw. */
  async function typed(): Promise<number[]> {
    await settle();
    return (await observer.typedKeysyms()).filter((k) => !MODIFIER_KEYSYMS.has(k));
  }

  it('moves the pointer to screen coordinates', async () => {
    await moveExpect(peer, 100, 200, 100, 200);
    await moveExpect(peer, 640, 360, 640, 360);
    await moveExpect(peer, W - 1, H - 1, W - 1, H - 1);
    await moveExpect(peer, 0, 0, 0, 0);
    assert.ok(observer.events.some((e) => e.type === 'motion' && e.x === 640 && e.y === 360), 'observer saw the motion');
  });

  it('clamps out-of-range coordinates, ignores non-numbers, and the connection never hangs', async () => {
    const cases: [number, number, number, number][] = [
      [1e6, 1e6, W - 1, H - 1],
      [-1e6, -5, 0, 0],
      [70000, 100, W - 1, 100],
      [100, -70000, 100, 0],
      [Number.MAX_VALUE, 3, W - 1, 3],
    ];
    for (const [x, y, ex, ey] of cases) await moveExpect(peer, x, y, ex, ey);
    peer.mouseMove({ x: 10, y: 10 });
    peer.mouseMove({ x: NaN, y: 5 });
    peer.mouseMove({ x: Infinity, y: 5 });
    peer.mouseClick({ x: -Infinity, y: 5, action: 'down' });
    peer.mouseWheel({ dy: NaN, x: NaN, y: 1 });
    const t0 = performance.now();
    await settle();
    assert.ok(performance.now() - t0 < 1000, 'a round trip still answers at once');
    assert.deepEqual(await observer.pointer(), { x: 10, y: 10, buttons: 0 });
  });

  it('maps buttons left/middle/right/back/forward to X 1/2/3/8/9 with down, up and click', async () => {
    const cases = [
      ['left', 1, 0x100],
      ['middle', 2, 0x200],
      ['right', 3, 0x400],
      ['back', 8, 0],
      ['forward', 9, 0],
    ] as const;
    for (const [button, x, mask] of cases) {
      observer.clear();
      peer.mouseClick({ x: 50, y: 60, button, action: 'down' });
      await settle();
      const p = await observer.pointer();
      assert.deepEqual([p.x, p.y], [50, 60]);
      assert.equal(p.buttons, mask, `${button} held`);
      peer.mouseClick({ x: 52, y: 60, button, action: 'up' });
      await settle();
      assert.equal((await observer.pointer()).buttons, 0);
      assert.deepEqual(
        observer.events.filter((e) => e.type !== 'motion').map((e) => [e.type, e.detail, e.x]),
        [
          ['button-down', x, 50],
          ['button-up', x, 52],
        ],
      );
    }
    observer.clear();
    peer.mouseClick({ x: 70, y: 80 }); // no button, no action: a left click
    peer.mouseClick({ x: 71, y: 80, button: 'right', action: 'click' });
    await settle();
    assert.deepEqual(
      observer.events.filter((e) => e.type !== 'motion').map((e) => [e.type, e.detail]),
      [
        ['button-down', 1],
        ['button-up', 1],
        ['button-down', 3],
        ['button-up', 3],
      ],
    );
    await assertNothingHeld();
  });

  it('never presses on mouse-move, even with the seed client’s action:"down"', async () => {
    peer.mouseMove({ x: 30, y: 30, button: 'left', action: 'down', modifiers: ['shift'] } as ClientMessageData<'mouse-move'>);
    await settle();
    assert.deepEqual(await observer.pointer(), { x: 30, y: 30, buttons: 0 });
    assert.ok(observer.events.every((e) => e.type === 'motion'));
    await assertNothingHeld();
  });

  it('scrolls: dy/dx notches are press+release of 4/5 and 6/7, fractions add up', async () => {
    peer.mouseWheel({ dy: 2, x: 400, y: 300 });
    peer.mouseWheel({ dy: -1 });
    peer.mouseWheel({ dx: 1 });
    peer.mouseWheel({ dx: -3 });
    peer.mouseWheel({ dy: 0.5 });
    peer.mouseWheel({ dy: 0.5 });
    await settle();
    const buttons = observer.events.filter((e) => e.type === 'button-down').map((e) => e.detail);
    const ups = observer.events.filter((e) => e.type === 'button-up').map((e) => e.detail);
    assert.deepEqual(buttons, [5, 5, 4, 7, 6, 6, 6, 5]);
    assert.deepEqual(ups, buttons);
    const p = await observer.pointer();
    assert.deepEqual([p.x, p.y], [400, 300]);
    await assertNothingHeld();
  });

  it('types every key class: letters, shifted characters, named keys, F-keys, é € ж', async () => {
    const chars = ['a', 'z', 'A', 'Z', '!', '@', '~', '?', '1', ' ', 'é', '€', 'ж', 'É', 'ß'];
    for (const key of chars) peer.key({ key });
    const expected = [0x61, 0x7a, 0x41, 0x5a, 0x21, 0x40, 0x7e, 0x3f, 0x31, 0x20, 0xe9, 0x10020ac, 0x1000436, 0xc9, 0xdf];
    assert.deepEqual((await typed()).map(hex), expected.map(hex));

    observer.clear();
    const named: [string, number][] = [
      ['Enter', 0xff0d],
      ['Tab', 0xff09],
      ['Backspace', 0xff08],
      ['Escape', 0xff1b],
      ['ArrowLeft', 0xff51],
      ['ArrowUp', 0xff52],
      ['ArrowRight', 0xff53],
      ['ArrowDown', 0xff54],
      ['Home', 0xff50],
      ['End', 0xff57],
      ['PageUp', 0xff55],
      ['PageDown', 0xff56],
      ['Insert', 0xff63],
      ['Delete', 0xffff],
      ...Array.from({ length: 12 }, (_, i) => [`F${i + 1}`, 0xffbe + i] as [string, number]),
    ];
    for (const [key] of named) peer.key({ key });
    assert.deepEqual((await typed()).map(hex), named.map(([, ks]) => hex(ks)));
    await assertNothingHeld();
  });

  it('binds missing characters onto the keycodes the desktop freed, a letter with its other case', async () => {
    assert.ok(injector.stats().spareKeycodes > 100, `${injector.stats().spareKeycodes} spare keycodes`);
    const text = 'абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ αβγΔΣΩ ❤中文ÆØÅæøå';
    const before = injector.stats();
    for (const key of text) peer.key({ key });
    assert.deepEqual(
      (await typed()).map(hex),
      [...text].map((ch) => hex(ch === ' ' ? 0x20 : (ch.codePointAt(0) ?? 0) > 0xff ? 0x1000000 + (ch.codePointAt(0) ?? 0) : (ch.codePointAt(0) ?? 0))),
    );
    const after = injector.stats();
    assert.equal(after.eventsDeferred, before.eventsDeferred, 'no keycode had to be reused');
    // ж and Ж share a keycode, Ж typed with Shift.
    const m = await observer.mapping();
    const zhe = observer.events.filter((e) => e.type === 'key-down' && [0x1000436, 0x1000416].includes(m.keysyms[(e.detail - m.minKeycode) * m.keysymsPerKeycode] ?? 0));
    assert.equal(new Set(zhe.map((e) => e.detail)).size, 1);
    await assertNothingHeld();
  });

  it('presses modifiers Shift/Control/Alt/Meta(Super) and CapsLock as keys, left and right', async () => {
    const mods: [Key, number][] = [
      [{ key: 'Shift' }, 0xffe1],
      [{ key: 'Shift', code: 'ShiftRight' }, 0xffe2],
      [{ key: 'Control' }, 0xffe3],
      [{ key: 'Control', code: 'ControlRight' }, 0xffe4],
      [{ key: 'Alt' }, 0xffe9],
      [{ key: 'Meta' }, 0xffeb],
      [{ key: 'Meta', code: 'MetaRight' }, 0xffec],
    ];
    for (const [ev] of mods) peer.key(ev);
    await settle();
    assert.deepEqual((await observer.typedKeysyms()).map(hex), mods.map(([, ks]) => hex(ks)));
    await assertNothingHeld();

    // Caps Lock: a letter sent as 'A' after CapsLock is still 'A', and 'a' is 'a'.
    observer.clear();
    peer.key({ key: 'CapsLock', code: 'CapsLock', key_code: 20 });
    peer.key({ key: 'A', code: 'KeyA', key_code: 65 });
    peer.key({ key: 'b', code: 'KeyB', key_code: 66 });
    peer.key({ key: 'CapsLock', code: 'CapsLock', key_code: 20 });
    peer.key({ key: 'c', code: 'KeyC', key_code: 67 });
    assert.deepEqual((await typed()).map(hex), [0xffe5, 0x41, 0x62, 0xffe5, 0x63].map(hex));
    assert.equal((await observer.pointer()).buttons, 0);
    assert.equal((await observer.conn.queryPointer()).mask & 0x2, 0, 'Caps Lock is off again');
  });

  it('tracks keys by key_code/code: Shift+1 gives "!", releasing "1" after Shift leaves nothing stuck', async () => {
    const variants: Partial<Key>[] = [{ code: 'Digit1', key_code: 49 }, { key_code: 49 }, {}];
    for (const v of variants) {
      observer.clear();
      const sh = v.code ? { code: 'ShiftLeft' } : {};
      const shKc = v.key_code !== undefined ? { key_code: 16 } : {};
      peer.key({ key: 'Shift', ...sh, ...shKc, action: 'down', modifiers: ['shift'] });
      peer.key({ key: '!', ...v, action: 'down', modifiers: ['shift'] });
      await settle();
      assert.equal((await observer.keysDown()).length, 2, `${JSON.stringify(v)}: shift and 1 are down`);
      peer.key({ key: 'Shift', ...sh, ...shKc, action: 'up', modifiers: [] });
      peer.key({ key: '1', ...v, action: 'up', modifiers: [] });
      assert.deepEqual((await typed()).map(hex), [hex(0x21)], JSON.stringify(v));
      await assertNothingHeld();
    }
  });

  it('types a shifted symbol while Shift is held and an unshifted one by lifting Shift around it', async () => {
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'down', modifiers: { shift: true } });
    peer.key({ key: 'A', code: 'KeyA', action: 'down', modifiers: { shift: true } });
    peer.key({ key: 'A', code: 'KeyA', action: 'up', modifiers: { shift: true } });
    peer.key({ key: '1', modifiers: { shift: true } }); // a symbol that needs no Shift
    peer.key({ key: ' ', modifiers: { shift: true } }); // Shift does not matter for space: stays held
    await settle();
    assert.equal((await observer.keysDown()).length, 1, 'Shift still held');
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'up', modifiers: {} });
    assert.deepEqual((await typed()).map(hex), [0x41, 0x31, 0x20].map(hex));
    const space = observer.events.filter((e) => e.type === 'key-down').at(-1);
    assert.equal((space?.state ?? 0) & 1, 1, 'space was typed with Shift held');
    await assertNothingHeld();
  });

  it('reconciles modifiers with each event: missing ones pressed, stale ones released', async () => {
    peer.key({ key: 'c', code: 'KeyC', action: 'down', modifiers: ['ctrl'] });
    await settle();
    const press = observer.events.find((e) => e.type === 'key-down' && e.detail === 54);
    assert.ok(press, 'c pressed');
    assert.equal(press.state & 0x4, 0x4, 'c pressed with Control held');
    peer.key({ key: 'c', code: 'KeyC', action: 'up', modifiers: [] });
    await assertNothingHeld();

    // A Shift whose key-up was lost is released by the next event that says no Shift.
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'down', modifiers: ['shift'] });
    peer.key({ key: 'x', code: 'KeyX', modifiers: ['alt'] });
    await settle();
    const x = observer.events.find((e) => e.type === 'key-down' && e.detail === 53);
    assert.equal((x?.state ?? 0) & 0x9, 0x8, 'x with Alt (Mod1) and without Shift');
    assert.equal((await observer.keysDown()).length, 1, 'Alt is held: the event said so');
    peer.key({ key: 'Alt', code: 'AltLeft', action: 'up', modifiers: [] }); // its key-up releases it
    await assertNothingHeld();

    // Mouse events press what they list, and release only what they pressed themselves.
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'down', modifiers: ['shift'] });
    peer.mouseClick({ x: 5, y: 5, modifiers: ['ctrl', 'shift'] });
    peer.mouseClick({ x: 5, y: 5, modifiers: [] });
    await settle();
    const clicks = observer.events.filter((e) => e.type === 'button-down');
    assert.equal((clicks[0]?.state ?? 0) & 0x5, 0x5, 'first click with Control and Shift');
    assert.equal((clicks[1]?.state ?? 0) & 0x5, 0x1, 'second click: Control lifted, Shift (a real key) kept');
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'up', modifiers: [] });
    await assertNothingHeld();
  });

  it('injects a client repeat of a held key as release+press (server autorepeat is off)', async () => {
    assert.equal(await observer.conn.getAutoRepeat(), false, 'autorepeat off');
    peer.key({ key: 'q', code: 'KeyQ', key_code: 81, action: 'down' });
    peer.key({ key: 'q', code: 'KeyQ', key_code: 81, action: 'down', repeat: true });
    peer.key({ key: 'q', code: 'KeyQ', key_code: 81, action: 'down' }); // the seed sends repeat:false
    await settle();
    await new Promise((r) => setTimeout(r, 700)); // longer than the X autorepeat delay (660 ms)
    peer.key({ key: 'q', code: 'KeyQ', key_code: 81, action: 'up' });
    await settle();
    assert.deepEqual(
      observer.events.map((e) => e.type),
      ['key-down', 'key-up', 'key-down', 'key-up', 'key-down', 'key-up'],
    );
    await assertNothingHeld();
  });

  it('key_code alone and code alone resolve to the physical key', async () => {
    peer.key({ key_code: 65 });
    peer.key({ key_code: 13 });
    peer.key({ key: 'Unidentified', code: 'KeyB' });
    peer.key({ key: 'Dead', code: 'Quote', key_code: 222 });
    peer.key({ key_code: 112 });
    assert.deepEqual((await typed()).map(hex), [0x61, 0xff0d, 0x62, 0x27, 0xffbe].map(hex));
  });

  it('releaseAll() after a disconnect mid-press leaves no key and no button held', async () => {
    peer.key({ key: 'Control', code: 'ControlLeft', action: 'down', modifiers: ['ctrl'] });
    peer.key({ key: 'Shift', code: 'ShiftLeft', action: 'down', modifiers: ['ctrl', 'shift'] });
    peer.key({ key: 'W', code: 'KeyW', action: 'down', modifiers: ['ctrl', 'shift'] });
    peer.key({ key: 'ж', action: 'down', modifiers: ['ctrl', 'shift'] });
    peer.key({ key: 'F5', code: 'F5', action: 'down', modifiers: ['ctrl', 'shift', 'meta'] });
    peer.mouseClick({ x: 10, y: 10, button: 'left', action: 'down' });
    peer.mouseClick({ x: 10, y: 10, button: 'right', action: 'down' });
    peer.mouseClick({ x: 10, y: 10, button: 'back', action: 'down' });
    await settle();
    assert.equal((await observer.keysDown()).length, 6, 'Control, Shift, W, ж, F5 and Super held before');
    assert.equal((await observer.pointer()).buttons, 0x500, 'buttons held before');
    assert.deepEqual(peer.holding, { keys: 6, buttons: 3 });
    peer.releaseAll();
    assert.deepEqual(peer.holding, { keys: 0, buttons: 0 });
    await assertNothingHeld();
  });

  it('counts holdings across peers: one peer releasing does not lift what another holds', async () => {
    const a = injector.forPeer('a');
    const b = injector.forPeer('b');
    a.key({ key: 'Shift', code: 'ShiftLeft', action: 'down' });
    b.key({ key: 'Shift', code: 'ShiftLeft', action: 'down' });
    a.mouseClick({ x: 1, y: 1, action: 'down' });
    b.mouseClick({ x: 1, y: 1, action: 'down' });
    a.releaseAll();
    await settle();
    assert.equal((await observer.keysDown()).length, 1);
    assert.equal((await observer.pointer()).buttons, 0x100);
    b.releaseAll();
    await assertNothingHeld();
  });

  it('follows a screen resize (RandR): coordinates are clamped to the current size', async () => {
    const env = { ...process.env, DISPLAY: desktop.display };
    try {
      // xrandr exits 1 here (it cannot fit the 1280x720 CRTC) but the screen is resized all the same.
      await run('xrandr', ['--fb', '800x600'], { env }).catch(() => undefined);
      await waitUntil(() => injector.screenSize?.width === 800);
      assert.deepEqual(injector.screenSize, { width: 800, height: 600 });
      await waitUntil(() => desktop.size.width === 800);
      assert.deepEqual(desktop.size, { width: 800, height: 600 }, 'the desktop follows too');
      await moveExpect(peer, 400, 300, 400, 300);
      await moveExpect(peer, 900, 650, 799, 599);
      await moveExpect(peer, 5000, 5000, 799, 599);
    } finally {
      await run('xrandr', ['--fb', `${W}x${H}`], { env });
      await waitUntil(() => injector.screenSize?.width === W);
    }
    assert.deepEqual(injector.screenSize, { width: W, height: H });
  });

  it('injects a 1 kHz stream of moves for 2 s without backlog', async (t) => {
    const before = injector.stats();
    const total = 2000;
    const start = performance.now();
    let sent = 0;
    let maxLate = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(performance.now() - start) + 1);
      maxLate = Math.max(maxLate, due - sent);
      while (sent < due) {
        peer.mouseMove({ x: sent % W, y: Math.floor(sent / W) * 10 + 1 });
        sent++;
      }
      await new Promise((r) => setImmediate(r));
    }
    const sendMs = performance.now() - start;
    const drain0 = performance.now();
    await settle();
    const drainMs = performance.now() - drain0;
    const last = total - 1;
    assert.deepEqual(await observer.pointer(), { x: last % W, y: Math.floor(last / W) * 10 + 1, buttons: 0 });
    const after = injector.stats();
    const coalesced = after.movesCoalesced - before.movesCoalesced;
    const injected = after.events - before.events;
    const seen = observer.events.filter((e) => e.type === 'motion').length;
    t.diagnostic(
      `1 kHz moves: ${total} sent in ${sendMs.toFixed(0)} ms (${((total / sendMs) * 1000).toFixed(0)}/s), ${injected} injected, ${coalesced} coalesced, observer saw ${seen} motions, drain after the last ${drainMs.toFixed(1)} ms`,
    );
    // A backlog of a 2 s stream would take far longer than one round trip to drain.
    assert.ok(drainMs < 250, `no backlog: drained in ${drainMs.toFixed(1)} ms`);
    assert.ok(sendMs < 3000, 'kept the pace');
    assert.equal(injected + coalesced, total);
  });

  it('a flood far above 1 kHz is coalesced, not queued', async (t) => {
    const before = injector.stats();
    const t0 = performance.now();
    for (let i = 0; i < 50_000; i++) peer.mouseMove({ x: i % W, y: 7 });
    const callMs = performance.now() - t0;
    const d0 = performance.now();
    await settle();
    const drainMs = performance.now() - d0;
    const after = injector.stats();
    t.diagnostic(
      `50 000 moves in one tick: ${callMs.toFixed(0)} ms of calls, ${after.events - before.events} injected, ${after.movesCoalesced - before.movesCoalesced} coalesced, drain ${drainMs.toFixed(1)} ms`,
    );
    assert.deepEqual(await observer.pointer(), { x: 49_999 % W, y: 7, buttons: 0 });
    assert.ok(after.events - before.events < 1000, 'most moves were coalesced');
    assert.ok(drainMs < 250);
  });
});
