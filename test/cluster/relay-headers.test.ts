import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { isRelayed, RELAY_HEADERS, relayedClientAddress, relayHeaders } from '../../src/cluster/relay-headers.js';

const SECRET = 'the-cluster-secret';
const asRequest = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('a relayed client address counts only when signed with the cluster secret, recently, unaltered', () => {
  const now = 1_800_000_000_000;
  const headers = relayHeaders('node-a', '203.0.113.7', SECRET, now);
  assert.equal(relayedClientAddress(asRequest(headers), SECRET, now + 1000), '203.0.113.7');
  assert.equal(relayedClientAddress(asRequest(headers), 'another-secret', now), null, 'another cluster');
  assert.equal(relayedClientAddress(asRequest(headers), SECRET, now + 61_000), null, 'stale: replayed or a clock far off');
  assert.equal(relayedClientAddress(asRequest({ ...headers, [RELAY_HEADERS.clientAddress]: '198.51.100.1' }), SECRET, now), null, 'address altered');
  assert.equal(relayedClientAddress(asRequest({ ...headers, [RELAY_HEADERS.node]: 'node-x' }), SECRET, now), null, 'node altered');
  assert.equal(relayedClientAddress(asRequest({ ...headers, [RELAY_HEADERS.signature]: 'garbage' }), SECRET, now), null, 'malformed signature');
  assert.equal(relayedClientAddress(asRequest(headers), undefined, now), null, 'no secret configured: nothing is trusted');
  assert.equal(relayedClientAddress(asRequest({}), SECRET, now), null, 'a direct client');
});

test('without a cluster secret a relay names itself but vouches for no address; either way the request is marked relayed', () => {
  const unsigned = relayHeaders('node-a', '203.0.113.7', undefined);
  assert.deepEqual(unsigned, { [RELAY_HEADERS.node]: 'node-a' });
  assert.equal(isRelayed(asRequest(unsigned)), true);
  assert.equal(isRelayed(asRequest({})), false);
});
