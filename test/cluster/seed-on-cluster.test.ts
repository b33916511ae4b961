import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/processes.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { SEED_MISSING } from '../helpers/seed.js';
import { health, startServer, type TestServer } from '../helpers/server.js';
import { runGoSeed, runPythonSeed, type SeedResult } from '../seed/seed-clients.js';

function assertServed(result: SeedResult): void {
  assert.ok(result.welcomed, 'the seed handled welcome');
  assert.ok(result.ponged, 'the seed handled pong');
  assert.ok(result.still_connected, 'an error never closed the connection');
  assert.equal(result.offers.length, 1, `the seed got an offer: ${JSON.stringify(result.errors)}`);
  assert.match(result.offers[0]!.sdp, /H264\/90000/);
}

describe('the seed Python and Go clients, unchanged, on cluster nodes', { skip: SEED_MISSING }, () => {
  let redis: RedisServer;
  let owner: TestServer;
  let relay: TestServer;
  before(async () => {
    redis = await startRedisServer();
    const common = ['--redis', redis.url, '--cluster-ttl', '2000', '--heartbeat-interval', '1000'];
    owner = await startServer([...common, '--node-id', 'owner', '--desktop', 'shared'], {}, { host: '127.0.0.2' });
    relay = await startServer([...common, '--node-id', 'relay'], {}, { host: '127.0.0.3' });
    await waitUntil('both nodes registered', async () => ((await health(relay)).cluster as { desktops: number } | undefined)?.desktops === 1);
  });
  after(async () => {
    await relay?.stop();
    await owner?.stop();
    await redis?.cleanup();
  });

  test('on plain /ws of a cluster node (its first desktop)', async () => {
    assertServed(await runPythonSeed(owner.wsUrl));
    assertServed(await runGoSeed(owner.wsUrl));
  });

  test('on /ws/NAME of a node that relays to the owner', async () => {
    assertServed(await runPythonSeed(`${relay.wsUrl}/shared`));
    assertServed(await runGoSeed(`${relay.wsUrl}/shared`));
  });
});
