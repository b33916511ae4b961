import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VirtualDesktop } from '../../src/desktop/index.js';
import { XConnection } from '../../src/x11/x11-connection.js';

const run = promisify(execFile);

/** The process a tether runs (Xvfb or the app): the tether's only child, once the tether has started it. */
async function childOf(pid: number | undefined): Promise<number> {
  assert.ok(pid, 'a tether pid');
  for (const end = Date.now() + 3000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
    const child = Number(stdout.trim().split('\n')[0]);
    if (child > 0) return child;
  }
  assert.fail(`no child of ${pid}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
}

describe('VirtualDesktop: Xvfb and an app, restarted when they die, nothing left behind', () => {
  const desktops: VirtualDesktop[] = [];
  const dirs: string[] = [];
  const make = (options: ConstructorParameters<typeof VirtualDesktop>[0]) => {
    const d = new VirtualDesktop({ restartDelayMs: { min: 50, max: 400 }, ...options });
    desktops.push(d);
    return d;
  };

  /** A directory the app may write in: as root it runs as another user. */
  const writableDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'streamgate-desktop-'));
    dirs.push(dir);
    await chmod(dir, 0o777);
    return dir;
  };

  after(async () => {
    await Promise.all(desktops.map((d) => d.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('picks a free display number itself (two at once differ), reports its size, turns autorepeat off', async () => {
    const a = make({ width: 640, height: 480, app: null });
    const b = make({ width: 320, height: 240, app: null });
    await Promise.all([a.start(), b.start()]);
    assert.match(a.display, /^:\d+$/);
    assert.notEqual(a.display, b.display);
    assert.deepEqual(a.size, { width: 640, height: 480 });
    assert.deepEqual(b.size, { width: 320, height: 240 });
    const conn = await XConnection.connect(a.display);
    try {
      assert.deepEqual(await conn.getGeometry(), { x: 0, y: 0, width: 640, height: 480 });
      assert.equal(await conn.getAutoRepeat(), false);
    } finally {
      conn.destroy();
    }
  });

  it('runs the app with DISPLAY set (a command line goes through sh -c) and restarts it when it exits', async () => {
    const dir = await writableDir();
    const file = join(dir, 'runs');
    const d = make({ width: 320, height: 240, app: `echo "$DISPLAY" >> '${file}'; sleep 0.1` });
    const starts: (number | undefined)[] = [];
    d.on('app-start', (pid) => starts.push(pid));
    await d.start();
    await waitUntil(() => starts.length >= 3);
    assert.ok(starts.length >= 3, `restarted (${starts.length} starts)`);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    assert.ok(lines.length >= 2);
    assert.ok(lines.every((l) => l === d.display));
  });

  it('fits the app window to the screen', async () => {
    const d = make({ width: 800, height: 600, app: ['xterm'] });
    const window = once(d, 'app-window');
    await d.start();
    const [wid] = (await window) as [number];
    const conn = await XConnection.connect(d.display);
    try {
      let geo = await conn.getGeometry(wid);
      for (let i = 0; i < 50 && geo.width !== 800; i++) {
        await new Promise((r) => setTimeout(r, 20));
        geo = await conn.getGeometry(wid);
      }
      assert.deepEqual([geo.x, geo.y, geo.width, geo.height], [0, 0, 800, 600]);
    } finally {
      conn.destroy();
    }
  });

  it('restarts Xvfb on the same display after it dies: display-lost, then display-ready, app back', async () => {
    const d = make({ width: 320, height: 240, app: ['sleep', '30'] });
    await d.start();
    const display = d.display;
    await waitUntil(() => d.appPid !== undefined);
    const oldApp = await childOf(d.appPid);
    const xvfb = await childOf(d.xvfbPid);
    const lost = once(d, 'display-lost');
    const ready = once(d, 'display-ready');
    process.kill(xvfb, 'SIGKILL');
    assert.equal((await lost)[0], display);
    assert.equal(d.ready, false);
    assert.equal(d.readyDisplay, null, 'no display while it is down');
    assert.throws(() => d.display, /not ready/);
    const [again] = (await ready) as [string];
    // Same number, unless a parallel test's Xvfb took the freed number first (then the socket is theirs).
    assert.ok(again === display || existsSync(`/tmp/.X11-unix/X${display.slice(1)}`), `back on ${again}, was ${display}`);
    assert.equal(d.display, again);
    assert.equal(d.ready, true);
    await waitUntil(() => !alive(oldApp));
    assert.equal(alive(oldApp), false, 'the old app was ended');
    await waitUntil(() => d.appPid !== undefined);
    const conn = await XConnection.connect(d.display);
    try {
      assert.equal(await conn.getAutoRepeat(), false, 'autorepeat off on the new server too');
    } finally {
      conn.destroy();
    }
  });

  it('stop() ends Xvfb, the app and their tethers', async () => {
    const d = make({ width: 320, height: 240, app: ['sleep', '30'] });
    await d.start();
    await waitUntil(() => d.appPid !== undefined);
    const pids = [d.xvfbPid as number, d.appPid as number, await childOf(d.xvfbPid), await childOf(d.appPid)];
    assert.ok(pids.every(alive));
    await d.stop();
    await waitUntil(() => !pids.some(alive));
    assert.deepEqual(pids.filter(alive), [], 'no process left');
    await d.stop(); // idempotent
  });

  it('as root, runs the app (nobody by default; root on request) with a HOME it owns and none of the server\'s STREAMGATE_* variables', { skip: process.getuid?.() !== 0 && 'not root' }, async () => {
    const dir = await writableDir();
    const file = join(dir, 'identity');
    process.env.STREAMGATE_PROBE_SECRET = 'not for the app';
    try {
      const app = `{ id -u; echo "$HOME"; echo "$SHELL"; env | grep -c '^STREAMGATE_'; } > '${file}.tmp'; mv '${file}.tmp' '${file}'; exec sleep 30`;
      const d = make({ width: 320, height: 240, app });
      await d.start();
      assert.equal(d.appAccount?.name, 'nobody');
      await waitUntil(() => existsSync(file));
      const [uid, home, shell, variables] = (await readFile(file, 'utf8')).trim().split('\n');
      assert.equal(uid, '65534');
      assert.equal((await stat(home!)).uid, 65534, `HOME ${home} belongs to the app's user`);
      assert.equal(shell, '/bin/sh', 'nobody\'s nologin is no shell for a terminal');
      assert.equal(variables, '0');
      await d.stop();
      assert.equal(existsSync(home!), false, 'the private HOME goes with the desktop');

      const asRoot = make({ width: 320, height: 240, app: `id -u > '${file}.root'; exec sleep 30`, appUser: 'root' });
      await asRoot.start();
      assert.equal(asRoot.appAccount, null);
      await waitUntil(() => existsSync(`${file}.root`));
      assert.equal((await readFile(`${file}.root`, 'utf8')).trim(), '0');
    } finally {
      delete process.env.STREAMGATE_PROBE_SECRET;
    }
  });

  it('refuses bad sizes and a second start()', async () => {
    assert.throws(() => new VirtualDesktop({ width: 8, height: 8 }), RangeError);
    assert.throws(() => new VirtualDesktop({ width: 1.5, height: 100 }), RangeError);
    const d = make({ width: 320, height: 240, app: null });
    assert.throws(() => d.display, /not ready/);
    assert.equal(d.readyDisplay, null);
    await d.start();
    await assert.rejects(() => d.start(), /already/);
  });
});
