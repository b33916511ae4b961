/**
 * File transfer over HTTP against the real server: credentials (a live session's id and resume token, the
 * bearer token when auth is on, the control role), byte-identical transfers both ways, and every refusal of
 * the jailed folders as a status with a JSON body naming the reason.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
let dir: string;
let server: TestServer;
let peers: WsPeer[] = [];

async function jwt(role: 'control' | 'view'): Promise<string> {
  return new SignJWT({ role }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
}

/** A live session's credentials for /files/, with the bearer token it connected with. */
async function session(token: string): Promise<Record<string, string>> {
  const peer = await WsPeer.open(`${server.wsUrl}?token=${token}`);
  peers.push(peer);
  const welcome = await peer.hello();
  return {
    authorization: `Bearer ${token}`,
    'x-streamgate-session': welcome.data.session_id as string,
    'x-streamgate-resume-token': welcome.data.resume_token as string,
  };
}

/** A raw request: `path` goes out exactly as written (fetch would resolve `..` itself). */
function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; json: Record<string, unknown> | null; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        let json: Record<string, unknown> | null = null;
        if (String(res.headers['content-type']).startsWith('application/json')) json = JSON.parse(bytes.toString()) as Record<string, unknown>;
        resolve({ status: res.statusCode ?? 0, json, bytes });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamgate-files-'));
  await mkdir(join(dir, 'up'));
  await mkdir(join(dir, 'down'));
  await writeFile(join(dir, 'secret.txt'), 'outside the folders');
  await symlink(join(dir, 'secret.txt'), join(dir, 'down', 'link.txt'));
  server = await startServer(['--jwt-secret', SECRET, '--upload-dir', join(dir, 'up'), '--download-dir', join(dir, 'down'), '--max-upload-size', '100000']);
});

after(async () => {
  for (const peer of peers) peer.close();
  peers = [];
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('an upload becomes the file, byte for byte; a download returns the file byte for byte', async () => {
  const creds = await session(await jwt('control'));
  const info = await raw('GET', '/files/', creds);
  assert.deepEqual(info.json, { upload: true, download: true, max_upload_size: 100000 });
  const bytes = randomBytes(50_000);
  const up = await raw('PUT', '/files/upload/r%C3%A9sum%C3%A9%20(1).bin', creds, bytes);
  assert.equal(up.status, 201, JSON.stringify(up.json));
  assert.deepEqual(await readFile(join(dir, 'up', 'résumé (1).bin')), bytes);
  const again = await raw('PUT', '/files/upload/r%C3%A9sum%C3%A9%20(1).bin', creds, Buffer.from('other'));
  assert.equal(again.status, 409);
  assert.equal(again.json?.error, 'exists');

  const out = randomBytes(70_000);
  await writeFile(join(dir, 'down', 'report.bin'), out);
  const list = await raw('GET', '/files/download', creds);
  assert.deepEqual((list.json?.files as { name: string }[]).map((f) => f.name), ['report.bin'], 'the symbolic link is not listed');
  const down = await raw('GET', '/files/download/report.bin', creds);
  assert.equal(down.status, 200);
  assert.deepEqual(down.bytes, out);
});

test('traversal, links, missing files and oversize uploads are refused with a status and a reason', async () => {
  const creds = await session(await jwt('control'));
  const cases: [string, string, number, string][] = [
    ['GET', '/files/download/../secret.txt', 400, 'bad-name'],
    ['GET', '/files/download/..%2Fsecret.txt', 400, 'bad-name'],
    ['GET', '/files/download/%2Fetc%2Fpasswd', 400, 'bad-name'],
    ['GET', '/files/download/%E0%A4%A', 400, 'bad-name'],
    ['GET', '/files/download/link.txt', 403, 'symlink'],
    ['GET', '/files/download/nothing.txt', 404, 'not-found'],
    ['PUT', '/files/upload/..%2F..%2Fescaped.txt', 400, 'bad-name'],
    ['DELETE', '/files/download/report.bin', 404, 'no-such-endpoint'],
  ];
  for (const [method, path, status, reason] of cases) {
    const res = await raw(method, path, creds, method === 'PUT' ? Buffer.from('x') : undefined);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json?.error, reason, `${method} ${path}`);
    assert.equal(typeof res.json?.message, 'string');
  }
  const big = await raw('PUT', '/files/upload/big.bin', creds, randomBytes(100_001));
  assert.equal(big.status, 413);
  assert.equal(big.json?.error, 'too-large');
  assert.match(String(big.json?.message), /100000 bytes/);
});

test('credentials: a live session of the control role, with the bearer token when auth is on', async () => {
  const creds = await session(await jwt('control'));
  const noSession = await raw('GET', '/files/download', { authorization: creds.authorization! });
  assert.equal(noSession.status, 401);
  const badToken = await raw('GET', '/files/download', { ...creds, 'x-streamgate-resume-token': 'wrong' });
  assert.equal(badToken.status, 401);
  const noBearer = await raw('GET', '/files/download', { ...creds, authorization: '' });
  assert.equal(noBearer.status, 401);
  const viewer = await session(await jwt('view'));
  const viewOnly = await raw('PUT', '/files/upload/v.txt', viewer, Buffer.from('x'));
  assert.equal(viewOnly.status, 403);
  assert.equal(viewOnly.json?.error, 'FORBIDDEN');

  // Once its connection is gone, the session's credentials no longer open anything.
  const last = peers.pop()!;
  const gone = await session(await jwt('control'));
  peers.pop()!.close();
  last.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await raw('GET', '/files/download', gone)).status, 401);
});
