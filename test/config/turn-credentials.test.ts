/** TURN REST credentials as coturn's use-auth-secret checks them (draft-uberti-behave-turn-rest-00). */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { turnRestCredential, withTurnCredentials } from '../../src/auth/turn-credentials.js';

test('username <expiry seconds>:<user>, password base64(HMAC-SHA1(secret, username))', () => {
  const { username, credential } = turnRestCredential('s3cret', 'session-1', 1_800_000_000_999);
  assert.equal(username, '1800000000:session-1');
  assert.equal(credential, createHmac('sha1', 's3cret').update('1800000000:session-1').digest('base64'));
});

test('only TURN entries without a username get minted credentials; the rest pass unchanged', () => {
  const servers = [
    { urls: 'stun:stun.example.com:3478' },
    { urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'] },
    { urls: 'turn:other.example.com', username: 'static', credential: 'pw' },
  ];
  const now = 1_800_000_000_000;
  const issued = withTurnCredentials(servers, { secret: 'k', ttlMs: 3_600_000 }, 'a:b', now);
  assert.deepEqual(issued[0], servers[0]);
  assert.deepEqual(issued[2], servers[2]);
  assert.equal(issued[1]!.username, '1800003600:a_b', 'expiry = now + ttl; a colon in the user would split it');
  assert.equal(issued[1]!.credential, createHmac('sha1', 'k').update('1800003600:a_b').digest('base64'));
  assert.deepEqual(withTurnCredentials(servers, undefined, 'x', now), servers, 'no secret: unchanged');
});
