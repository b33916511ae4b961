import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ClusterError } from '../../src/cluster/cluster-error.js';
import { Redis } from 'ioredis';
import type { DesktopRecord, NodeLoad } from '../../src/cluster/records.js';
import { ClusterRegistry, type RegistryState } from '../../src/cluster/registry.js';
import { logger } from '../../src/log.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/processes.js';

const TTL_MS = 2000;
const NODE_SCRIPT = fileURLToPath(new URL('./registry-node.js', import.meta.url));

let prefixes = 0;
/** Each test its own key space in the shared redis. */
const freshPrefix = () => `t${process.pid}-${++prefixes}:`;

function makeRegistry(redis: RedisServer, id: string, prefix: string, load: Partial<Omit<NodeLoad, 'desktops'>> = {}): ClusterRegistry {
  const registry = new ClusterRegistry({
    redisUrl: redis.url,
    node: { id, wsUrl: `ws://127.0.0.2:${8000 + id.length}`, httpUrl: `http://127.0.0.2:${8000 + id.length}` },
    load: () => ({ cpu: 0, viewers: 0, maxDesktops: 10, ...load }),
    log: logger('test.cluster'),
    ttlMs: TTL_MS,
    keyPrefix: prefix,
  });
  registries.push(registry);
  return registry;
}

/**
 * Publishes a departure on the cluster's channel that no registry read could produce (the node never
 * existed), and returns what `registry` made of it: proof that it hears the channel.
 */
async function announced(server: RedisServer, prefix: string, registry: ClusterRegistry): Promise<DesktopRecord> {
  const publisher = new Redis(server.url);
  try {
    const heard = once(registry, 'desktop-gone');
    await publisher.publish(`${prefix}events`, JSON.stringify({ type: 'desktop-gone', desktop: 'ghost-desktop', node: 'ghost' }));
    return ((await heard) as [DesktopRecord])[0];
  } finally {
    publisher.disconnect();
  }
}

const registries: ClusterRegistry[] = [];
let redis: RedisServer;

before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  await redis.cleanup();
});

describe('cluster registry against a real redis-server', () => {
  test('two nodes register, see each other, and locate each other\'s desktops', async () => {
    const prefix = freshPrefix();
    const a = makeRegistry(redis, 'node-a', prefix);
    const b = makeRegistry(redis, 'node-b', prefix);
    await Promise.all([a.start(), b.start()]);
    assert.equal(a.state, 'ready');
    assert.equal(b.state, 'ready');
    await a.claim('alice');
    await b.claim('bob');

    const view = await a.refresh();
    assert.deepEqual(view.nodes.map((n) => n.id), ['node-a', 'node-b']);
    assert.deepEqual(view.desktops, [{ name: 'alice', owner: 'node-a' }, { name: 'bob', owner: 'node-b' }]);
    assert.equal(view.nodes.find((n) => n.id === 'node-a')?.load.desktops, 1, 'the claim is published with the record at once');

    assert.equal((await a.locate('bob'))?.id, 'node-b');
    assert.equal((await a.locate('bob'))?.wsUrl, 'ws://127.0.0.2:8006');
    assert.equal((await b.locate('alice'))?.id, 'node-a');
    assert.equal((await a.locate('alice'))?.id, 'node-a', 'a node locates its own desktop');
    assert.equal(await a.locate('nobody'), null);
    await assert.rejects(a.locate('../etc'), (err: unknown) => err instanceof ClusterError && err.kind === 'invalid-name' && /"\.\.\/etc"/.test(err.message));
  });

  test('a name is owned by one node only: the second claim fails naming the owner (SET NX)', async () => {
    const prefix = freshPrefix();
    const a = makeRegistry(redis, 'node-a', prefix);
    const b = makeRegistry(redis, 'node-b', prefix);
    await Promise.all([a.start(), b.start()]);
    const results = await Promise.allSettled([a.claim('carol'), b.claim('carol')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one of two racing claims wins');
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(lost?.reason instanceof ClusterError && lost.reason.kind === 'desktop-taken', String(lost?.reason));
    const winner = (await a.locate('carol'))!.id;
    assert.match((lost.reason as Error).message, new RegExp(`owned by node "${winner}"`));
    const owner = winner === 'node-a' ? a : b;
    await owner.claim('carol');
    assert.deepEqual(owner.localDesktops, ['carol'], 'claiming one\'s own name again is a no-op');

    await owner.release('carol');
    await (owner === a ? b : a).claim('carol');
    assert.equal((await a.locate('carol'))?.id, owner === a ? 'node-b' : 'node-a', 'a released name can be claimed by another node');
  });

  test('a SIGKILLed node and its desktops drop out within the TTL, and the others are told', async () => {
    const prefix = freshPrefix();
    const observer = makeRegistry(redis, 'observer', prefix);
    await observer.start();
    const child = spawn(process.execPath, [NODE_SCRIPT, JSON.stringify({ redisUrl: redis.url, id: 'doomed', ttlMs: TTL_MS, keyPrefix: prefix, desktops: ['dave', 'erin'] })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitUntil('the child node is registered', () => output.includes('ready\n'), 20_000);
      assert.equal((await observer.locate('dave'))?.id, 'doomed');
      await waitUntil('the observer has the child in its view', () => observer.view.desktops.length === 2, 5000);

      const goneNodes: string[] = [];
      const goneDesktops: string[] = [];
      observer.on('node-gone', (id) => goneNodes.push(id));
      observer.on('desktop-gone', (d) => goneDesktops.push(`${d.name}@${d.owner}`));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await once(child, 'exit');
      await waitUntil('dave is no longer located', async () => (await observer.locate('dave')) === null, TTL_MS * 3);
      const vanishedAfter = Date.now() - killedAt;
      // Redis expires the keys TTL_MS after the last heartbeat at the latest; the rest is polling under load.
      assert.ok(vanishedAfter <= TTL_MS + 1500, `gone after ${vanishedAfter} ms; TTL ${TTL_MS} ms`);
      assert.equal(await observer.locate('erin'), null);
      await waitUntil('the observer\'s heartbeat notices', () => goneNodes.includes('doomed'), TTL_MS * 2);
      assert.deepEqual(goneDesktops.sort(), ['dave@doomed', 'erin@doomed']);
      assert.deepEqual((await observer.refresh()).nodes.map((n) => n.id), ['observer']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a node that stops deletes its keys and announces it on the cluster channel', async () => {
    const prefix = freshPrefix();
    const a = makeRegistry(redis, 'node-a', prefix);
    const b = makeRegistry(redis, 'node-b', prefix);
    await Promise.all([a.start(), b.start()]);
    await b.claim('frank');
    await a.refresh();
    const gone = once(a, 'node-gone');
    await b.stop();
    assert.deepEqual(await gone, ['node-b']);
    assert.equal(await a.locate('frank'), null);
    assert.deepEqual(await announced(redis, prefix, a), { name: 'ghost-desktop', owner: 'ghost' }, 'departures are announced on the channel, not only read at heartbeats');
  });

  test('the least-loaded node with room is chosen, by published load', async () => {
    const prefix = freshPrefix();
    const busy = makeRegistry(redis, 'busy', prefix, { cpu: 0.9 });
    const idle = makeRegistry(redis, 'idle', prefix, { cpu: 0.1 });
    const full = makeRegistry(redis, 'full', prefix, { cpu: 0, maxDesktops: 1 });
    await Promise.all([busy.start(), idle.start(), full.start()]);
    assert.equal((await busy.chooseNode())?.id, 'full', 'the idlest node while it has room');
    await full.claim('gina');
    assert.equal((await busy.chooseNode())?.id, 'idle', 'a full node is never chosen');
    for (const name of ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8', 'h9']) await idle.claim(name);
    assert.equal((await full.chooseNode())?.id, 'busy', 'desktops weigh in: nine of them outweigh 0.8 of CPU');
  });

  test('redis SIGKILLed: degraded, own desktops still served; restarted: everything registered again', async () => {
    const own = await startRedisServer();
    try {
      const prefix = freshPrefix();
      const a = makeRegistry(own, 'node-a', prefix);
      const b = makeRegistry(own, 'node-b', prefix);
      await Promise.all([a.start(), b.start()]);
      await a.claim('ivan');
      await b.claim('judy');
      const states: RegistryState[] = [];
      a.on('state', (s) => states.push(s));

      await own.stop('SIGKILL');
      await waitUntil('node-a is degraded', () => a.state === 'degraded', TTL_MS * 2);
      await waitUntil('node-b is degraded', () => b.state === 'degraded', TTL_MS * 2);
      assert.equal(a.health().state, 'degraded');
      assert.equal(a.health().serving, 'local desktops only');
      assert.equal((await a.locate('ivan'))?.id, 'node-a', 'a degraded node still serves its own desktops');
      await assert.rejects(a.locate('judy'), (err: unknown) => err instanceof ClusterError && err.kind === 'registry-unavailable' && /node-a/.test(err.message) && /judy/.test(err.message));
      await assert.rejects(a.claim('kate'), (err: unknown) => err instanceof ClusterError && err.kind === 'registry-unavailable');

      await own.restart();
      await Promise.all([a.whenReady(TTL_MS * 5), b.whenReady(TTL_MS * 5)]);
      assert.deepEqual(states, ['degraded', 'ready']);
      assert.equal((await a.locate('judy'))?.id, 'node-b', 'the restarted, empty redis learnt node-b\'s desktop again');
      assert.equal((await b.locate('ivan'))?.id, 'node-a');
      assert.deepEqual((await a.refresh()).nodes.map((n) => n.id), ['node-a', 'node-b']);
      assert.deepEqual(await announced(own, prefix, a), { name: 'ghost-desktop', owner: 'ghost' }, 'announcements flow again after the restart');
    } finally {
      await own.cleanup();
    }
  });

  test('a registry that starts while redis is down carries on degraded and registers once it is up', async () => {
    const own = await startRedisServer();
    try {
      await own.stop('SIGKILL');
      const prefix = freshPrefix();
      const a = makeRegistry(own, 'late', prefix);
      await a.start();
      assert.equal(a.state, 'degraded');
      await own.restart();
      await a.whenReady(TTL_MS * 5);
      assert.deepEqual((await a.refresh()).nodes.map((n) => n.id), ['late']);
      assert.deepEqual(await announced(own, prefix, a), { name: 'ghost-desktop', owner: 'ghost' }, 'the subscription queued while Redis was down was made once it came up');
    } finally {
      await own.cleanup();
    }
  });
});
