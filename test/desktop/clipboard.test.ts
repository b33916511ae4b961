import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ClipboardError, DesktopClipboard, type SelectionChange } from '../../src/desktop/clipboard.js';
import { VirtualDesktop } from '../../src/desktop/index.js';
import { encodePng } from '../../src/desktop/png-encoder.js';
import { descendants } from '../helpers/processes.js';

const run = promisify(execFile);

describe('DesktopClipboard: text and PNG between a caller and the desktop selections', () => {
  let desktop: VirtualDesktop;
  let clipboard: DesktopClipboard;
  const apps: ChildProcess[] = [];
  /** Our xclip processes serving a selection (not their tethers, whose command line names them too). */
  const serving = (args: string) => descendants(process.pid).filter((p) => p.command.startsWith(`xclip -quiet ${args}`)).length;

  const env = () => ({ ...process.env, DISPLAY: desktop.display, LANG: 'C.UTF-8' });
  /** `xclip -o` as a desktop app pastes: the raw bytes. */
  const paste = async (selection: string, target?: string): Promise<Buffer> => {
    const { stdout } = await run('xclip', ['-selection', selection, '-o', ...(target ? ['-t', target] : [])], { env: env(), encoding: 'buffer', maxBuffer: 64 << 20 });
    return stdout;
  };
  /** A desktop app copying `data`: an xclip that keeps serving it in the foreground. */
  const copyInDesktop = async (selection: string, data: Buffer): Promise<void> => {
    const changed = nextChange((c) => c.selection === selection && !c.ours && c.owner !== 0);
    const app = spawn('xclip', ['-quiet', '-selection', selection, '-i'], { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
    apps.push(app);
    app.stdin.end(data);
    await changed;
  };
  const nextChange = (pred: (c: SelectionChange) => boolean, timeoutMs = 5000): Promise<SelectionChange> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching clipboard change')), timeoutMs);
      const on = (c: SelectionChange): void => {
        if (!pred(c)) return;
        clearTimeout(timer);
        clipboard.off('change', on);
        resolve(c);
      };
      clipboard.on('change', on);
    });

  before(async () => {
    desktop = new VirtualDesktop({ width: 320, height: 240, app: null, audio: false });
    await desktop.start();
    clipboard = await DesktopClipboard.start(desktop.display, { maxBytes: 1024 * 1024 });
  });

  after(async () => {
    for (const app of apps) if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    await clipboard?.stop();
    await desktop?.stop();
  });

  it('reads nothing from an empty clipboard', async () => {
    assert.equal(await clipboard.read('clipboard'), null);
  });

  it('reads text a desktop app copied, and reports the change as not ours', async () => {
    const text = 'copied in the desktop: grüße ✓ 漢字\nsecond line';
    await copyInDesktop('clipboard', Buffer.from(text, 'utf8'));
    assert.deepEqual(await clipboard.read('clipboard'), { kind: 'text', text });
    await copyInDesktop('primary', Buffer.from('selected with the mouse', 'utf8'));
    assert.deepEqual(await clipboard.read('primary'), { kind: 'text', text: 'selected with the mouse' });
  });

  it('sets text that desktop apps paste byte-identical, in CLIPBOARD and PRIMARY, flagged as ours', async () => {
    const text = 'from the viewer: ünïcödé ✓ 🚀 \t tabs\nand lines\n';
    const change = nextChange((c) => c.selection === 'clipboard');
    await clipboard.writeText(text, ['clipboard', 'primary']);
    assert.equal((await change).ours, true);
    assert.deepEqual(await paste('clipboard'), Buffer.from(text, 'utf8'));
    assert.deepEqual(await paste('primary'), Buffer.from(text, 'utf8'));
    assert.deepEqual(await clipboard.read('clipboard'), { kind: 'text', text });
  });

  it('sets a PNG (large enough for an INCR transfer) that desktop apps paste byte-identical', async () => {
    const png = encodePng(300, 300, randomBytes(300 * 300 * 4));
    assert.ok(png.length > 300_000, `png ${png.length} bytes`);
    await clipboard.writeImage(png);
    assert.deepEqual(await paste('clipboard', 'image/png'), png);
    const back = await clipboard.read('clipboard');
    assert.equal(back?.kind, 'image');
    assert.deepEqual(back.kind === 'image' && back.data, png);
  });

  it('a desktop copy replaces ours; the xclip serving ours then ends', async () => {
    assert.equal(serving('-selection clipboard -t image/png'), 1, 'our xclip serves the clipboard');
    await copyInDesktop('clipboard', Buffer.from('newer copy', 'utf8'));
    assert.deepEqual(await clipboard.read('clipboard'), { kind: 'text', text: 'newer copy' });
    for (const end = Date.now() + 3000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      if (serving('-selection clipboard -t image/png') === 0) break;
    }
    assert.equal(serving('-selection clipboard -t image/png'), 0);
  });

  it('refuses content over the size limit, either way, and an image that is not a PNG', async () => {
    await assert.rejects(clipboard.writeText('x'.repeat(1024 * 1024 + 1)), (e) => e instanceof ClipboardError && e.code === 'too-large' && /1048576/.test(e.message));
    await assert.rejects(clipboard.writeImage(Buffer.from('GIF89a....')), (e) => e instanceof ClipboardError && e.code === 'not-png');
    await copyInDesktop('clipboard', Buffer.alloc(1024 * 1024 + 10, 'y'));
    await assert.rejects(clipboard.read('clipboard'), (e) => e instanceof ClipboardError && e.code === 'too-large');
  });

  it('stop() ends every xclip it started', async () => {
    await clipboard.writeText('last words', ['primary']);
    assert.equal(serving('-selection primary'), 1);
    const closed = once(clipboard, 'close');
    await clipboard.stop();
    await closed;
    assert.equal(serving('-selection primary'), 0);
  });
});
