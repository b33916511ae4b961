import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_MISSING } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { runGoSeed, runPythonSeed, type SeedResult } from './seed-clients.js';

function assertSignaling(result: SeedResult): void {
  assert.ok(result.welcomed, 'the seed handled welcome');
  assert.ok(result.ponged, 'the seed handled pong');
  assert.ok(result.stats.length > 0, 'the seed got stats');
  assert.ok(result.stats[0]!.system, 'stats carry the system section it asked for');
  assert.ok(
    result.errors.some((e) => /does not know messages of type/.test(e)),
    `the seed received the UNKNOWN_MESSAGE_TYPE error: ${JSON.stringify(result.errors)}`,
  );
  assert.ok(result.still_connected, 'an error never closed the connection');
  assert.equal(result.offers.length, 1, `the seed got an offer for its request-offer: ${JSON.stringify(result.errors)}`);
  const offer = result.offers[0]!;
  assert.equal(offer.type, 'offer');
  assert.match(offer.sdp, /^m=video /m);
  assert.match(offer.sdp, /^m=audio /m);
  assert.match(offer.sdp, /H264\/90000/, 'the seeds prefer H264 and it is offered');
  assert.match(offer.sdp, /profile-level-id=42e01f/);
  assert.match(offer.sdp, /^a=msid:/m);
  assert.match(offer.sdp, /^a=candidate:/m, 'the offer already carries candidates');
}

describe('the seed Python and Go clients, unchanged, against the server (signaling and offer)', { skip: SEED_MISSING }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(['--heartbeat-interval', '1000']);
  });
  after(async () => {
    await server.stop();
  });

  test('Python seed: welcome adopted (heartbeat in s), pong, stats, an H264 offer with msid and candidates, errors, connection kept', async () => {
    const result = await runPythonSeed(server.wsUrl);
    assertSignaling(result);
    assert.equal(result.heartbeat_interval_s, 1, 'the Python seed divides the ms interval by 1000');
  });

  test('Go seed: welcome parsed (integer ms timestamps, string error fields), pong, stats, an H264 offer, errors, connection kept', async () => {
    const result = await runGoSeed(server.wsUrl);
    assertSignaling(result);
    assert.equal(result.heartbeat_interval_ms, 1000, 'the Go seed parsed welcome.session_config.heartbeat_interval');
    assert.equal(result.peer_id, '498081', 'Go 1.19 unseeded rand gives every default client the same peer_id');
  });
});
