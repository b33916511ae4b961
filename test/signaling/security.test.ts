import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../helpers/server.js';
import { launchChromium } from '../helpers/chromium.js';
import { framesAdvance, openViewer } from '../helpers/viewer-page.js';
import { WsPeer } from '../helpers/ws-peer.js';

const TOKEN = 'a-shared-secret-of-some-length';
const HS_SECRET = 'an-hs256-secret-that-is-at-least-32-chars';
const dir = mkdtempSync(join(tmpdir(), 'sg-sec-'));
const servers: TestServer[] = [];
const peers: WsPeer[] = [];

async function server(args: string[]): Promise<TestServer> {
  const s = await startServer(args);
  servers.push(s);
  return s;
}
async function open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<WsPeer> {
  const peer = await WsPeer.open(url, options, protocols);
  peers.push(peer);
  return peer;
}
async function unauthorized(peer: WsPeer): Promise<void> {
  const error = await peer.next((m) => m.type === 'error');
  assert.equal(error.error.code, 'UNAUTHORIZED');
  assert.equal(await peer.closed(), 1008);
}
function hs256(claims: Record<string, unknown>, expiresIn: string | number = '1h'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expiresIn).sign(new TextEncoder().encode(HS_SECRET));
}
/** Resolves with the HTTP status of a refused upgrade, or 101 when it was accepted. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

after(async () => {
  for (const p of peers) p.close();
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('authentication: shared token and JWTs, checked before the upgrade', () => {
  let s: TestServer;
  before(async () => {
    s = await server(['--auth-token', TOKEN, '--jwt-secret', HS_SECRET]);
  });

  test('no token or a wrong token gets UNAUTHORIZED and close 1008', async () => {
    await unauthorized(await open(s.wsUrl));
    await unauthorized(await open(`${s.wsUrl}?token=wrong`));
  });

  test('the token is accepted from the Authorization header, the token query parameter and a bearer.<token> subprotocol', async () => {
    const viaHeader = await open(s.wsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal((await viaHeader.hello()).type, 'welcome');
    const viaQuery = await open(`${s.wsUrl}?token=${TOKEN}`);
    assert.equal((await viaQuery.hello()).type, 'welcome');
    const viaProtocol = await WsPeer.open(s.wsUrl, {}, ['streamgate', `bearer.${TOKEN}`]);
    peers.push(viaProtocol);
    assert.equal(viaProtocol.ws.protocol, 'streamgate', 'the token is never echoed when another subprotocol will do');
    assert.equal((await viaProtocol.hello()).type, 'welcome');
  });

  test('an HS256 JWT with role view may watch but not take control; role control may; expired and exp-less tokens are refused', async () => {
    const viewer = await open(`${s.wsUrl}?token=${await hs256({ role: 'view' })}`);
    const welcome = await viewer.hello();
    assert.equal(welcome.data.session_config.input_enabled, false);
    const refused = await viewer.reply(viewer.request('request-control'));
    assert.equal(refused.error.code, 'FORBIDDEN');
    assert.equal(refused.error.details, 'role=view');
    const controller = await open(`${s.wsUrl}?token=${await hs256({ role: 'control' })}`);
    assert.equal((await controller.hello()).type, 'welcome');
    await unauthorized(await open(`${s.wsUrl}?token=${await hs256({ role: 'control' }, Math.floor(Date.now() / 1000) - 60)}`));
    const noExp = await new SignJWT({ role: 'control' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(HS_SECRET));
    await unauthorized(await open(`${s.wsUrl}?token=${noExp}`));
  });

  test('a connection is closed with UNAUTHORIZED/1008 when its token expires', async () => {
    const peer = await open(`${s.wsUrl}?token=${await hs256({ role: 'view' }, Math.floor(Date.now() / 1000) + 2)}`);
    assert.equal((await peer.hello()).type, 'welcome');
    await unauthorized(peer);
  });

  test('HTTP: /metrics needs credentials; /healthz and the viewer\'s files (no data in them) do not', async () => {
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${s.url}/`)).status, 200);
    assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  });

  test('the viewer opened as /?token=… plays live video with auth on (it passes the token to /ws)', async () => {
    const browser = await launchChromium();
    try {
      const page = await openViewer(browser, `${s.url}/?token=${TOKEN}`);
      await framesAdvance(page);
    } finally {
      await browser.close();
    }
  });

  test('the token never appears in the logs', () => {
    assert.equal(JSON.stringify(s.logs).includes(TOKEN), false);
  });
});

describe('RS256 and ES256 JWTs verified with a PEM public key; public metrics switch', () => {
  for (const [alg, keyType, options] of [
    ['RS256', 'rsa', { modulusLength: 2048 }],
    ['ES256', 'ec', { namedCurve: 'P-256' }],
  ] as const) {
    test(`${alg}: a token signed with the private key is accepted, one signed with another key is refused`, async () => {
      const pair = generateKeyPairSync(keyType as 'rsa', options as { modulusLength: number });
      const other = generateKeyPairSync(keyType as 'rsa', options as { modulusLength: number });
      const pubFile = join(dir, `${alg}.pem`);
      writeFileSync(pubFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
      const s = await server(['--jwt-public-key', pubFile, '--public-metrics', 'true']);
      const sign = async (key: typeof pair.privateKey) =>
        new SignJWT({ role: 'control' })
          .setProtectedHeader({ alg })
          .setExpirationTime('1h')
          .sign(await importPKCS8(key.export({ type: 'pkcs8', format: 'pem' }) as string, alg));
      const good = await open(`${s.wsUrl}?token=${await sign(pair.privateKey)}`);
      assert.equal((await good.hello()).type, 'welcome');
      await unauthorized(await open(`${s.wsUrl}?token=${await sign(other.privateKey)}`));
      assert.equal((await fetch(`${s.url}/metrics`)).status, 200, '--public-metrics serves /metrics without credentials');
    });
  }
});

describe('origin allow-list, per-address limit and TLS', () => {
  test('a cross-site Origin is refused with 403; same origin, localhost and allowed origins pass; no Origin passes', async () => {
    const s = await server(['--allowed-origins', 'https://app.example']);
    assert.equal(await upgradeStatus(s.wsUrl, { origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(s.wsUrl, { origin: 'http://localhost:9999' }), 101);
    assert.equal(await upgradeStatus(s.wsUrl, { origin: `http://127.0.0.1:${s.port}` }), 101);
    assert.equal(await upgradeStatus(s.wsUrl, { origin: 'https://app.example' }), 101);
    assert.equal(await upgradeStatus(s.wsUrl, {}), 101);
  });

  test('--max-peers-per-ip refuses the extra connection with SERVER_BUSY/1013', async () => {
    const s = await server(['--max-peers-per-ip', '2']);
    await open(s.wsUrl);
    await open(s.wsUrl);
    const third = await open(s.wsUrl);
    const error = await third.next((m) => m.type === 'error');
    assert.equal(error.error.code, 'SERVER_BUSY');
    assert.equal(await third.closed(), 1013);
  });

  test('--tls-cert/--tls-key serve https and wss on the same port', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const s = await server(['--tls-cert', cert, '--tls-key', key]);
    const peer = await open(`wss://127.0.0.1:${s.port}/ws`, { rejectUnauthorized: false });
    assert.equal((await peer.hello()).type, 'welcome');
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`https://127.0.0.1:${s.port}/healthz`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 200);
  });
});
