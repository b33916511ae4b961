import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, videoPixels } from '../helpers/chromium.js';
import { waitUntil } from '../helpers/processes.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { health, startServer, type TestServer } from '../helpers/server.js';
import { framesAdvance, openViewer } from '../helpers/viewer-page.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { Observer } from '../helpers/x-observer.js';

const SECRET = 'a-cluster-secret-for-the-tests';
const TTL_MS = 2000;

interface ClusterHealth {
  state: string;
  node: string;
  nodes: string[];
  desktops: number;
  local_desktops: number;
  relayed_sessions: number;
}

async function clusterOf(server: TestServer): Promise<ClusterHealth> {
  return (await health(server)).cluster as ClusterHealth;
}

/** A cluster node on its own loopback address, with the cluster's TTL and secret. */
function startNode(redis: RedisServer, id: string, host: string, args: string[]): Promise<TestServer> {
  return startServer(['--redis', redis.url, '--node-id', id, '--cluster-ttl', String(TTL_MS), '--cluster-secret', SECRET, '--resume-grace', '10000', ...args], {}, { host });
}

describe('a node started while Redis is down serves its desktops and registers them once Redis is up', () => {
  let redis: RedisServer;
  let node: TestServer;
  after(async () => {
    await node?.stop();
    await redis?.cleanup();
  });

  test('degraded at start, then ready with its desktop claimed', async () => {
    redis = await startRedisServer();
    await redis.stop();
    node = await startNode(redis, 'late', '127.0.0.4', ['--desktop', 'early']);
    assert.equal((await clusterOf(node)).state, 'degraded');
    const peer = await WsPeer.open(`${node.wsUrl}/early`, {}, ['streamgate']);
    assert.equal((await peer.hello()).type, 'welcome', 'its own desktop is served without Redis');
    peer.close();
    await redis.restart();
    await waitUntil('registered with its desktop', async () => {
      const c = await clusterOf(node);
      return c.state === 'ready' && c.local_desktops === 1 && c.desktops === 1;
    }, 20_000);
  });
});

describe('a cluster of two nodes on Redis: any node serves any desktop', () => {
  let redis: RedisServer;
  let nodeA: TestServer;
  let nodeB: TestServer;
  let browser: Browser | undefined;
  const peers: WsPeer[] = [];
  const open = async (url: string): Promise<WsPeer> => {
    const peer = await WsPeer.open(url, {}, ['streamgate']);
    peers.push(peer);
    return peer;
  };
  before(async () => {
    redis = await startRedisServer();
    nodeA = await startNode(redis, 'node-a', '127.0.0.2', ['--source', 'virtual', '--resolution', '640x480', '--desktop', 'alice:xsetroot -solid red; exec sleep 100000']);
    nodeB = await startNode(redis, 'node-b', '127.0.0.3', []);
    await waitUntil('both nodes see each other', async () => (await clusterOf(nodeB)).nodes.length === 2 && (await clusterOf(nodeA)).nodes.length === 2);
  });
  after(async () => {
    for (const p of peers) p.close();
    await browser?.close();
    await nodeB?.stop();
    await nodeA?.stop();
    await redis?.cleanup();
  });

  test('/healthz shows the cluster: both nodes, alice on node A', async () => {
    const a = await clusterOf(nodeA);
    const b = await clusterOf(nodeB);
    assert.equal(a.state, 'ready');
    assert.deepEqual(b.nodes, ['node-a', 'node-b']);
    assert.equal(a.local_desktops, 1);
    assert.equal(b.local_desktops, 0, 'node B\'s implicit default desktop is its own, not the cluster\'s');
    assert.equal(b.desktops, 1);
    const metrics = await (await fetch(`${nodeB.url}/metrics`)).text();
    assert.match(metrics, /^streamgate_cluster_nodes 2$/m);
    assert.match(metrics, /^streamgate_cluster_desktops\{owner="remote"\} 1$/m);
    assert.match(metrics, /^streamgate_cluster_registry_ready 1$/m);
  });

  test('a browser on node B watches alice (owned by node A), and its input reaches node A\'s X server', async () => {
    browser = await launchChromium();
    const page = await openViewer(browser, `${nodeB.url}/?desktop=alice`);
    await framesAdvance(page);
    await waitUntil('the relayed video shows alice\'s red screen', async () => {
      const [[r, g, b]] = (await videoPixels(page, 'video', [[0.85, 0.15]])) as [[number, number, number]];
      return r > 200 && g < 60 && b < 60;
    }, 20_000);
    assert.equal((await clusterOf(nodeB)).relayed_sessions, 1);
    const display = ((await health(nodeA)).desktops as { display: string }[])[0]!.display;
    const observer = await Observer.open(display);
    try {
      // The page (the first peer, so alice's controller) moves the pointer through node B.
      await waitUntil('input from the page through node B reaches node A\'s X server', async () => {
        await page.evaluate(() => window.streamgate.client.mouseMove(160, 240));
        const p = await observer.pointer();
        return p.x === 160 && p.y === 240;
      }, 15_000);
    } finally {
      await observer.close();
      await page.close();
    }
  });

  test('the owner counts a relayed client under its own address, which the relay vouches for with the cluster secret', async () => {
    const peer = await WsPeer.open(`${nodeB.wsUrl}/alice`, { localAddress: '127.0.0.5' }, ['streamgate']);
    peers.push(peer);
    await peer.hello({}, 'from-five');
    const opened = nodeA.logs.filter((l) => l.msg === 'connection open' && l.desktop === 'alice');
    assert.equal(opened.at(-1)?.remote, '127.0.0.5', 'the owner logs the client\'s address, with the desktop\'s name');
    peer.close();
  });

  test('a session opened through node A resumes through node B', async () => {
    const first = await open(`${nodeA.wsUrl}/alice`);
    const welcome = await first.hello({}, 'resumer');
    first.ws.terminate();
    const second = await open(`${nodeB.wsUrl}/alice`);
    const resumed = await second.hello({ session_id: welcome.data.session_id, resume_token: welcome.data.resume_token }, 'resumer');
    assert.equal(resumed.type, 'welcome');
    assert.equal(resumed.data.resumed, true);
    assert.equal(resumed.data.session_id, welcome.data.session_id);
    second.close();
  });

  test('Redis killed: each node says degraded and serves its own desktops; Redis back: registered again', async () => {
    await redis.stop('SIGKILL');
    await waitUntil('both nodes degraded', async () => (await clusterOf(nodeA)).state === 'degraded' && (await clusterOf(nodeB)).state === 'degraded', 15_000);
    assert.equal(((await health(nodeA)).cluster as Record<string, unknown>).serving, 'local desktops only');
    const direct = await open(`${nodeA.wsUrl}/alice`);
    assert.equal((await direct.hello()).type, 'welcome', 'node A serves alice without Redis');
    direct.close();
    const relayed = await open(`${nodeB.wsUrl}/alice`);
    const error = await relayed.next((m) => m.type === 'error');
    assert.equal(error.error.code, 'MEDIA_UNAVAILABLE');
    assert.equal(error.error.details, 'desktop=alice');
    assert.equal(await relayed.closed(), 1013);
    await redis.restart();
    await waitUntil('both nodes ready, alice registered again', async () => {
      const b = await clusterOf(nodeB);
      return (await clusterOf(nodeA)).state === 'ready' && b.state === 'ready' && b.desktops === 1 && b.nodes.length === 2;
    }, 20_000);
    const again = await open(`${nodeB.wsUrl}/alice`);
    assert.equal((await again.hello()).type, 'welcome', 'relayed to alice again');
    again.close();
  });

  test('node A SIGKILLed: its relayed clients get MEDIA_UNAVAILABLE naming alice, and it leaves the registry within the TTL', async () => {
    const relayed = await open(`${nodeB.wsUrl}/alice`);
    await relayed.hello();
    await nodeA.stop('SIGKILL');
    const error = await relayed.next((m) => m.type === 'error', 10_000);
    assert.equal(error.error.code, 'MEDIA_UNAVAILABLE');
    assert.equal(error.error.details, 'desktop=alice');
    assert.equal(await relayed.closed(), 1013);
    const killedAt = Date.now();
    await waitUntil('node A and alice gone from node B\'s view', async () => {
      const b = await clusterOf(nodeB);
      return b.nodes.length === 1 && b.desktops === 0;
    }, 3 * TTL_MS + 5000);
    // Within one TTL of the last heartbeat, plus one heartbeat to notice, plus the load of a shared machine.
    assert.ok(Date.now() - killedAt < 2 * TTL_MS + 4000, `took ${Date.now() - killedAt} ms`);
    const late = await open(`${nodeB.wsUrl}/alice`);
    assert.equal((await late.next((m) => m.type === 'error')).error.code, 'MEDIA_UNAVAILABLE');
  });
});
