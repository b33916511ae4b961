/**
 * On a node with two desktops, access is bound to a desktop: /files/ and /clipboard serve the desktop the
 * session is on (its clipboard, its own X server's; a `desktops` claim's role on it), on the node's second
 * desktop as on its first; and a view-only share link watches the desktop it was made for, and no other.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { health, startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';

const run = promisify(execFile);
const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
let dir: string;
let server: TestServer;
const peers: WsPeer[] = [];
const displays = new Map<string, string>();

const jwt = (claims: Record<string, unknown>): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));

/** The headers of a live session on `desktop`, opened with `token`; its input_enabled too. */
async function session(desktop: string, token: string): Promise<{ headers: Record<string, string>; controls: boolean }> {
  const peer = await WsPeer.open(`${server.wsUrl}/${desktop}?token=${token}`);
  peers.push(peer);
  const welcome = await peer.hello();
  const headers = {
    authorization: `Bearer ${token}`,
    'x-streamgate-session': welcome.data.session_id as string,
    'x-streamgate-resume-token': welcome.data.resume_token as string,
  };
  return { headers, controls: (welcome.data.session_config as { input_enabled: boolean }).input_enabled };
}

/** A fresh connection's answer to its hello: the welcome, or the error refusing its credentials. */
async function firstAnswer(url: string): Promise<Record<string, unknown>> {
  const peer = await WsPeer.open(url);
  peers.push(peer);
  void peer.hello().catch(() => undefined);
  return peer.next((m) => m.type === 'welcome' || m.type === 'error') as Promise<Record<string, unknown>>;
}

async function xClipboard(desktop: string): Promise<string> {
  const { stdout } = await run('xclip', ['-o', '-selection', 'clipboard'], { env: { ...process.env, DISPLAY: displays.get(desktop) }, timeout: 5000 }).catch(() => ({ stdout: '' }));
  return stdout;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamgate-doors-'));
  await mkdir(join(dir, 'up'));
  server = await startServer([
    '--jwt-secret', SECRET, '--source', 'virtual', '--resolution', '320x240', '--app', 'sleep 100000', '--resume-grace', '0',
    '--clipboard', 'both', '--upload-dir', join(dir, 'up'), '--desktop', 'alpha', '--desktop', 'beta',
  ]);
  for (const d of (await health(server)).desktops as { name: string; display: string }[]) displays.set(d.name, d.display);
});

after(async () => {
  for (const peer of peers) peer.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("PUT and GET /clipboard reach the X clipboard of the session's own desktop, and not the other's", async () => {
  const token = await jwt({ role: 'control' });
  const alpha = await session('alpha', token);
  const beta = await session('beta', token);
  assert.ok(alpha.controls && beta.controls, 'each session controls its desktop');
  for (const [name, s] of [['beta', beta], ['alpha', alpha]] as const) {
    const res = await fetch(`${server.url}/clipboard`, { method: 'PUT', headers: { ...s.headers, 'content-type': 'text/plain' }, body: `copied on ${name}` });
    assert.equal(res.status, 204, await res.text());
    await until(`${name}'s X clipboard`, async () => ((await xClipboard(name)) === `copied on ${name}` ? true : undefined));
  }
  assert.equal(await xClipboard('beta'), 'copied on beta', 'alpha\'s paste did not reach beta');
  const got = await fetch(`${server.url}/clipboard`, { headers: beta.headers });
  assert.equal(got.status, 200);
  assert.equal(await got.text(), 'copied on beta');
});

test("/files/ takes a session on the node's second desktop, with the role a `desktops` claim gives it there", async () => {
  const token = await jwt({ role: 'control', desktops: { alpha: 'view', beta: 'control' } });
  const beta = await session('beta', token);
  const alpha = await session('alpha', token);
  const put = await fetch(`${server.url}/files/upload/from-beta.txt`, { method: 'PUT', headers: beta.headers, body: 'beta bytes' });
  assert.equal(put.status, 201, await put.text());
  assert.equal(await readFile(join(dir, 'up', 'from-beta.txt'), 'utf8'), 'beta bytes');
  // The same token only views alpha: its session there may not upload.
  const refused = await fetch(`${server.url}/files/upload/from-alpha.txt`, { method: 'PUT', headers: alpha.headers, body: 'alpha bytes' });
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { error: string }).error, 'FORBIDDEN');
  // A token that does not grant beta cannot act for a session on beta, though the session is live.
  const other = await jwt({ role: 'control', desktops: { alpha: 'control' } });
  const foreign = await fetch(`${server.url}/files/`, { headers: { ...beta.headers, authorization: `Bearer ${other}` } });
  assert.equal(foreign.status, 401);
});

test('a share link made on one desktop watches that desktop, and is refused on the other and on plain /ws', async () => {
  for (const peer of peers.splice(0)) {
    peer.close();
    await peer.closed();
  }
  const token = await jwt({ role: 'control' });
  const controller = await WsPeer.open(`${server.wsUrl}/beta?token=${token}`);
  peers.push(controller);
  assert.equal((await controller.hello()).data.session_config.input_enabled, true);
  const link = await controller.reply(controller.request('create-share-link'));
  assert.equal(link.type, 'share-link', JSON.stringify(link));
  const { token: shared, path } = link.data as { token: string; path: string };
  const query = new URLSearchParams(path.slice(path.indexOf('?')));
  assert.equal(query.get('desktop'), 'beta', 'the viewer path opens beta');
  assert.equal(query.get('token'), shared);
  const watching = await firstAnswer(`${server.wsUrl}/beta?token=${shared}`);
  assert.equal(watching.type, 'welcome', JSON.stringify(watching));
  assert.equal((watching.data as { session_config: { input_enabled: boolean } }).session_config.input_enabled, false);
  for (const elsewhere of [`${server.wsUrl}/alpha?token=${shared}`, `${server.wsUrl}?token=${shared}`]) {
    const refused = await firstAnswer(elsewhere);
    assert.equal(refused.type, 'error', `${elsewhere}: ${JSON.stringify(refused)}`);
    assert.equal((refused.error as { code: string }).code, 'UNAUTHORIZED');
  }
});
