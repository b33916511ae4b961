import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { descendants, waitUntil } from '../helpers/processes.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { health, startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';

const TOKEN = 'a-shared-secret-of-some-length';
const JWT_SECRET = 'an-hs256-secret-that-is-at-least-32-chars';
const auth = { authorization: `Bearer ${TOKEN}` };

function api(server: TestServer, method: string, path = '', body?: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return fetch(`${server.url}/api/desktops${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
}

async function names(server: TestServer, headers: Record<string, string> = auth): Promise<string[]> {
  const res = await api(server, 'GET', '', undefined, headers);
  assert.equal(res.status, 200);
  return ((await res.json()) as { name: string }[]).map((d) => d.name).sort();
}

const xvfbs = (server: TestServer) => descendants(server.pid).filter((p) => p.command.startsWith('Xvfb')).length;

describe('desktops API on one server: create, list, open, delete, stop when idle', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000', '--auth-token', TOKEN, '--jwt-secret', JWT_SECRET, '--desktop-idle-timeout', '1500']);
  });
  after(async () => server?.stop());

  test('needs credentials; lists what the caller may open; a created desktop opens on /ws/NAME and leaves nothing behind when deleted', async () => {
    assert.equal((await api(server, 'GET', '', undefined, {})).status, 401);
    assert.deepEqual(await names(server), ['default']);
    const created = await api(server, 'POST', '', { name: 'extra', app: 'sleep 100000', resolution: '640x480' });
    assert.equal(created.status, 201, await created.clone().text());
    assert.deepEqual(await created.json(), { name: 'extra', node: null, ws: '/ws/extra' });
    assert.deepEqual(await names(server), ['default', 'extra']);
    assert.equal(xvfbs(server), 2);
    const peer = await WsPeer.open(`${server.wsUrl}/extra?token=${TOKEN}`);
    assert.equal((await peer.hello()).data.session_config.input_enabled, true);
    assert.equal((await api(server, 'POST', '', { name: 'extra' })).status, 409);
    assert.equal((await api(server, 'POST', '', { name: 'Not A Name' })).status, 400);
    assert.equal((await api(server, 'DELETE', '/nosuch')).status, 404);
    assert.equal((await api(server, 'DELETE', '/default')).status, 409, 'the default desktop stays');
    assert.equal((await api(server, 'DELETE', '/extra')).status, 204);
    assert.equal(await peer.closed(), 1001, 'its viewer is told the desktop is going away');
    assert.deepEqual(await names(server), ['default']);
    await waitUntil('the deleted desktop\'s Xvfb is gone', () => xvfbs(server) === 1);
  });

  test('a JWT with a desktops claim lists only its desktops and may create only those it controls', async () => {
    const token = await new SignJWT({ role: 'control', desktops: { mine: 'control', theirs: 'view' } }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));
    const bearer = { authorization: `Bearer ${token}` };
    assert.deepEqual(await names(server, bearer), []);
    assert.equal((await api(server, 'POST', '', { name: 'theirs', app: 'sleep 100000' }, bearer)).status, 403);
    assert.equal((await api(server, 'POST', '', { name: 'mine', app: 'sleep 100000' }, bearer)).status, 201);
    assert.deepEqual(await names(server, bearer), ['mine']);
    assert.equal((await api(server, 'DELETE', '/mine', undefined, bearer)).status, 204);
  });

  test('a created desktop nobody opens is stopped after --desktop-idle-timeout', async () => {
    assert.equal((await api(server, 'POST', '', { name: 'idle', app: 'sleep 100000' })).status, 201);
    await waitUntil('the idle desktop is stopped', async () => !(await names(server)).includes('idle'), 15_000);
    await waitUntil('its Xvfb is gone', () => xvfbs(server) === 1);
  });
});

describe('desktops API in a cluster: placed on the least-loaded node, deleted through any', () => {
  let redis: RedisServer;
  let nodeA: TestServer;
  let nodeB: TestServer;
  before(async () => {
    redis = await startRedisServer();
    const common = ['--redis', redis.url, '--cluster-ttl', '2000', '--auth-token', TOKEN, '--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000'];
    // Node A runs a named desktop already, so node B (none) is the less loaded.
    nodeA = await startServer([...common, '--node-id', 'node-a', '--desktop', 'first'], {}, { host: '127.0.0.2' });
    nodeB = await startServer([...common, '--node-id', 'node-b'], {}, { host: '127.0.0.3' });
    await waitUntil('both nodes registered', async () => ((await health(nodeA)).cluster as { nodes: string[] }).nodes.length === 2);
  });
  after(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await redis?.cleanup();
  });

  test('POST on node A starts the desktop on node B; it opens through node A; DELETE on node A stops it on node B', async () => {
    const before = xvfbs(nodeB);
    const created = await api(nodeA, 'POST', '', { name: 'placed', app: 'sleep 100000' });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(((await created.json()) as { node: string }).node, 'node-b');
    assert.equal(xvfbs(nodeB), before + 1);
    await waitUntil('node A lists it on node B', async () => {
      const listed = (await (await api(nodeA, 'GET')).json()) as { name: string; node: string }[];
      return listed.some((d) => d.name === 'placed' && d.node === 'node-b');
    });
    const peer = await WsPeer.open(`${nodeA.wsUrl}/placed?token=${TOKEN}`, {}, ['streamgate']);
    assert.equal((await peer.hello()).type, 'welcome');
    assert.equal((await api(nodeB, 'POST', '', { name: 'placed' })).status, 409);
    assert.equal((await api(nodeA, 'DELETE', '/placed')).status, 204);
    assert.equal(await peer.closed(), 1001);
    await waitUntil('node B\'s Xvfb for it is gone', () => xvfbs(nodeB) === before);
    assert.equal((await api(nodeA, 'DELETE', '/placed')).status, 404);
  });
});
