import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseClientMessage, protocolJsonSchema, CLIENT_MESSAGE_TYPES } from '../../src/protocol/index.js';

test('protocol: the committed docs/protocol.schema.json is what the zod schemas generate', () => {
  const committed = JSON.parse(readFileSync(new URL('../../../docs/protocol.schema.json', import.meta.url), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(protocolJsonSchema())), 'run `npm run schema` and commit the result');
});

test('protocol: peer_id keeps its JSON type, unknown fields are dropped, missing data defaults to {}', () => {
  const n = parseClientMessage('{"type":"ping","peer_id":12345,"extra":true}');
  assert.ok(n.ok);
  assert.equal(n.message.peer_id, 12345);
  assert.deepEqual(n.message.data, {});
  assert.equal('extra' in n.message, false);
  const s = parseClientMessage('{"type":"ping","peer_id":"12345"}');
  assert.ok(s.ok && s.message.peer_id === '12345');
});

test('protocol: every client message type validates its required fields and names the bad one', () => {
  const bad: Record<string, unknown> = {
    'mouse-move': { x: 'a', y: 1 },
    'mouse-click': { x: 1, y: 1, button: 'nose' },
    'key-press': {},
    'mouse-wheel': { dy: 'down' },
    answer: { sdp: { type: 'offer', sdp: 'v=0' } },
    'ice-candidate': {},
    'request-offer': { codec_preferences: 'H264' },
    'get-stats': { stats_type: 'webrtc' },
    ping: { sequence: {} },
    hello: { capabilities: [1] },
    'hand-over-control': { session_id: 5 },
    'resize-screen': { width: 8, height: 100 },
  };
  for (const [type, data] of Object.entries(bad)) {
    const r = parseClientMessage(JSON.stringify({ type, data }));
    assert.equal(r.ok, false, type);
    if (!r.ok) {
      assert.equal(r.code, 'INVALID_MESSAGE', type);
      assert.match(r.details ?? '', /^data/, `${type}: ${r.details}`);
    }
  }
  for (const type of CLIENT_MESSAGE_TYPES) {
    assert.ok(type in bad || ['request-control', 'release-control', 'create-share-link'].includes(type), `${type} has a negative case`);
  }
});

test('protocol: the JS seed\'s mouse-move with action "down" is a valid move (button/action ignored)', () => {
  const r = parseClientMessage(JSON.stringify({ type: 'mouse-move', peer_id: 1, data: { x: 5, y: 6, button: 'left', action: 'down', modifiers: [] } }));
  assert.ok(r.ok);
  assert.deepEqual(r.message.data, { x: 5, y: 6 });
});

test('protocol: errors keep what could be read of the envelope for the reply', () => {
  const r = parseClientMessage('{"type":"nope","peer_id":"p","message_id":"m1"}');
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.code, 'UNKNOWN_MESSAGE_TYPE');
    assert.deepEqual(r.partial, { type: 'nope', peer_id: 'p', message_id: 'm1' });
  }
});
