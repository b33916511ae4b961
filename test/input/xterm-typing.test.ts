import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_APP, VirtualDesktop } from '../../src/desktop/index.js';
import type { PeerInput } from '../../src/input/types.js';
import { X11InputInjector } from '../../src/input/x11-injector.js';

const SHIFTED = new Set('~!@#$%^&*()_+{}|:"<>?');

/** Types `text` as a browser would report it: Shift down/up around shifted characters, key + key_code + code. */
function typeLikeABrowser(peer: PeerInput, text: string): void {
  for (const ch of text) {
    const upper = ch !== ch.toLowerCase() && /[A-Z]/.test(ch);
    const shift = upper || SHIFTED.has(ch);
    const mods = shift ? ['shift'] : [];
    const keyCode = /[a-z]/i.test(ch) ? ch.toUpperCase().charCodeAt(0) : /[0-9]/.test(ch) ? ch.charCodeAt(0) : 0;
    if (shift) peer.key({ key: 'Shift', code: 'ShiftLeft', key_code: 16, action: 'down', modifiers: mods });
    peer.key({ key: ch, key_code: keyCode, action: 'down', modifiers: mods });
    peer.key({ key: ch, key_code: keyCode, action: 'up', modifiers: mods });
    if (shift) peer.key({ key: 'Shift', code: 'ShiftLeft', key_code: 16, action: 'up', modifiers: [] });
  }
}

describe('typing into a real xterm in the virtual desktop', () => {
  let dir: string;
  let desktop: VirtualDesktop;
  let injector: X11InputInjector;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamgate-xterm-'));
    // The desktop's app (the xterm writing here) runs as an unprivileged user when the tests run as root.
    await chmod(dir, 0o777);
    // Only Xvfb's 19 empty keycodes are spare here: typing more distinct missing characters reuses them.
    desktop = new VirtualDesktop({ width: 1024, height: 576, freeVendorKeycodes: false, app: [...DEFAULT_APP, '-e', 'sh', '-c', `exec cat > '${join(dir, 'typed.txt')}'`] });
    const window = new Promise<number>((resolve) => desktop.once('app-window', resolve));
    await desktop.start();
    await window;
    injector = await X11InputInjector.create({ display: desktop.display });
  });

  after(async () => {
    await injector?.close();
    await desktop?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the text typed (ASCII, shifted symbols, é € ж, Backspace, Enter) is what the terminal got', async () => {
    const peer = injector.forPeer('typist');
    peer.mouseMove({ x: 512, y: 288 }); // no window manager: focus follows the pointer
    await new Promise((r) => setTimeout(r, 300)); // xterm takes its font and the focus
    typeLikeABrowser(peer, 'Hello, World! 1+1=2 ~`"\'<>? é€ж xy');
    peer.key({ key: 'Backspace', code: 'Backspace', key_code: 8, action: 'down', modifiers: [] });
    peer.key({ key: 'Backspace', code: 'Backspace', key_code: 8, action: 'up', modifiers: [] });
    peer.key({ key: 'Enter', code: 'Enter', key_code: 13 });
    const file = join(dir, 'typed.txt');
    let text = '';
    for (const end = Date.now() + 5000; Date.now() < end && !text.endsWith('\n'); await new Promise((r) => setTimeout(r, 50))) {
      text = await readFile(file, 'utf8').catch(() => '');
    }
    assert.equal(text, 'Hello, World! 1+1=2 ~`"\'<>? é€ж x\n');
  });

  it('types more characters missing from the keymap than there are spare keycodes (reused, never retyped)', async () => {
    assert.equal(injector.stats().spareKeycodes, 19);
    const peer = injector.forPeer('typist');
    const line = 'абвгдежзийклмнопрстуфхцчшщъыьэюя ЖЁ ΑΒΓ αβγ ❤ 中文';
    typeLikeABrowser(peer, line);
    peer.key({ key: 'Enter', code: 'Enter', key_code: 13 });
    const file = join(dir, 'typed.txt');
    let text = '';
    for (const end = Date.now() + 5000; Date.now() < end && text.split('\n').length < 3; await new Promise((r) => setTimeout(r, 50))) {
      text = await readFile(file, 'utf8').catch(() => '');
    }
    assert.equal(text.split('\n')[1], line);
    const stats = injector.stats();
    assert.ok(stats.keysymsBound > 19, `${stats.keysymsBound} keysyms bound`);
    assert.ok(stats.eventsDeferred > 0, 'some input waited for a keycode to be reusable');
  });
});
