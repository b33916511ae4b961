/**
 * Unit tests of the client's connection logic against an in-memory socket (no network): what it
 * sends in hello, when it reconnects, its offline queue, ping matching, error routing.
 * The real server is exercised in client-server.test.ts.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RTCPeerConnection as WeriftPeerConnection } from 'werift';
import { CLIENT_VERSION, StreamgateClient, type PeerConnectionConstructor, type StateChange } from '../../src/client/index.js';
import { MemorySocket, welcome } from './memory-socket.js';

const clients: StreamgateClient[] = [];
function makeClient(extra: Partial<ConstructorParameters<typeof StreamgateClient>[0]> = {}): StreamgateClient {
  const c = new StreamgateClient({
    url: 'ws://127.0.0.1:1/ws',
    WebSocket: MemorySocket,
    peerId: 'unit',
    heartbeat: false,
    backoff: { baseDelayMs: 5, maxDelayMs: 20, jitter: 0 },
    ...extra,
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  MemorySocket.all = [];
});

const last = (): MemorySocket => MemorySocket.all[MemorySocket.all.length - 1]!;
const nextSocket = async (count: number): Promise<MemorySocket> => {
  while (MemorySocket.all.length < count) await new Promise((r) => setTimeout(r, 2));
  return last();
};

test('hello is sent first on open with the configured peer id, kept as a string', async () => {
  const c = makeClient();
  const connected = c.connect();
  last().open();
  const [hello] = last().sent;
  assert.equal(hello!.type, 'hello');
  assert.equal(hello!.peer_id, 'unit');
  assert.equal(typeof hello!.message_id, 'string');
  assert.equal(Number.isInteger(hello!.timestamp), true);
  assert.equal((hello!.data as { session_id?: string }).session_id, undefined, 'no resume data on a first connect');
  last().receive(welcome('sess-1', 'tok-1'));
  const w = await connected;
  assert.equal(w.session_id, 'sess-1');
  assert.equal(c.state, 'open');
});

test("hello names the SDK with package.json's version (in Node it is read from the file)", async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }; // from dist/test/client
  assert.equal(CLIENT_VERSION, pkg.version);
  const c = makeClient({ clientInfo: { app: 'unit' } });
  c.connect().catch(() => {});
  last().open();
  const info = (last().ofType('hello')[0]!.data as { client_info: Record<string, unknown> }).client_info;
  assert.deepEqual({ sdk: info.sdk, sdk_version: info.sdk_version, app: info.app }, { sdk: 'streamgate-client', sdk_version: pkg.version, app: 'unit' });
});

test('a new session asks for the stream right behind its hello, once; a resumed session asks after its welcome', async () => {
  // requestOffer() needs a constructor to exist; no offer comes over the memory socket, so none is made.
  const c = makeClient({ RTCPeerConnection: WeriftPeerConnection as unknown as PeerConnectionConstructor });
  c.requestOffer().catch(() => {});
  last().open();
  assert.deepEqual(last().sent.map((m) => m.type), ['hello', 'request-offer'], 'asked before the welcome (one round trip less)');
  last().receive(welcome('sess-1', 'tok-1'));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(last().ofType('request-offer').length, 1, 'the welcome does not ask again');
  last().drop(1006);
  const s2 = await nextSocket(2);
  s2.open();
  assert.deepEqual(s2.sent.map((m) => m.type), ['hello'], 'a resume waits: its welcome says whether the old peer connection lives on');
  s2.receive(welcome('sess-1', 'tok-2', true));
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(s2.sent.map((m) => m.type), ['hello', 'request-offer']);
});

test('a numeric peer id goes out as a JSON number', async () => {
  const c = makeClient({ peerId: 12345 });
  c.connect().catch(() => {});
  last().open();
  assert.equal(last().sent[0]!.peer_id, 12345);
});

test('after an abnormal close the next hello carries session_id and resume_token of the last welcome', async () => {
  const c = makeClient();
  const states: StateChange[] = [];
  c.on('state', (s) => states.push(s));
  const connected = c.connect();
  last().open();
  last().receive(welcome('sess-1', 'tok-1'));
  await connected;
  last().drop(1006);
  const reconnecting = states.find((s) => s.state === 'reconnecting');
  assert.ok(reconnecting, 'goes to reconnecting');
  assert.ok(typeof reconnecting.delayMs === 'number' && reconnecting.delayMs >= 0 && reconnecting.delayMs <= 20);
  assert.equal(reconnecting.closeCode, 1006);
  const s2 = await nextSocket(2);
  s2.open();
  const hello = s2.ofType('hello')[0]!;
  assert.deepEqual(
    { session_id: (hello.data as Record<string, unknown>).session_id, resume_token: (hello.data as Record<string, unknown>).resume_token },
    { session_id: 'sess-1', resume_token: 'tok-1' },
  );
  s2.receive(welcome('sess-1', 'tok-2', true));
  await c.waitFor('open');
  assert.equal(c.getMetrics().reconnects, 1);
  // The rotated token is the one used next time.
  s2.drop(1012);
  const s3 = await nextSocket(3);
  s3.open();
  assert.equal((s3.ofType('hello')[0]!.data as Record<string, unknown>).resume_token, 'tok-2');
});

for (const code of [1001, 1012, 1013, 4000]) {
  test(`close code ${code} reconnects by itself`, async () => {
    const c = makeClient();
    c.connect().catch(() => {});
    last().open();
    last().receive(welcome('s', 't'));
    last().drop(code);
    assert.equal(c.state, 'reconnecting');
    await nextSocket(2);
  });
}

for (const code of [1008, 4001, 1000]) {
  test(`close code ${code} ends the client without reconnecting`, async () => {
    const c = makeClient();
    const closed = c.next('close');
    void c.connect().catch(() => {});
    last().open();
    last().receive(welcome('s', 't'));
    last().drop(code);
    assert.equal((await closed).willReconnect, false);
    assert.equal(c.state, 'closed');
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(MemorySocket.all.length, 1, 'no new socket');
  });
}

test('disconnect() never reconnects and rejects the pending connect', async () => {
  const c = makeClient();
  const connected = c.connect();
  await c.disconnect();
  await assert.rejects(connected, /disconnected/);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(MemorySocket.all.length, 1);
  assert.equal(c.state, 'closed');
});

test('a failed first attempt is retried and connect() resolves when it finally succeeds', async () => {
  const c = makeClient();
  const connected = c.connect();
  last().drop(1006); // refused
  const s2 = await nextSocket(2);
  s2.open();
  s2.receive(welcome('s', 't'));
  assert.equal((await connected).session_id, 's');
});

test('maxRetries bounds attempts per outage, then connect() rejects', async () => {
  const c = makeClient({ maxRetries: 2 });
  const connected = c.connect();
  last().drop(1006);
  (await nextSocket(2)).drop(1006);
  (await nextSocket(3)).drop(1006);
  await assert.rejects(connected, /retries are exhausted/);
  assert.equal(c.state, 'closed');
});

test('messages sent while offline are queued drop-oldest and flushed after welcome', async () => {
  const c = makeClient({ maxQueueSize: 3 });
  c.connect().catch(() => {});
  for (let i = 0; i < 5; i++) c.mouseMove(i, i);
  assert.equal(c.getMetrics().queueSize, 3);
  assert.equal(c.getMetrics().queueDropped, 2);
  last().open();
  assert.deepEqual(last().sent.map((m) => m.type), ['hello'], 'nothing but hello before welcome');
  last().receive(welcome('s', 't'));
  const moves = last().ofType('mouse-move').map((m) => (m.data as { x: number }).x);
  assert.deepEqual(moves, [2, 3, 4], 'the two oldest were dropped');
  assert.equal(c.getMetrics().queueSize, 0);
});

test('ping resolves with the round trip of its own pong (matched by sequence), recorded in metrics', async () => {
  const c = makeClient();
  c.connect().catch(() => {});
  last().open();
  last().receive(welcome('s', 't'));
  const p1 = c.ping();
  const p2 = c.ping();
  const [ping1, ping2] = last().ofType('ping');
  // Answer out of order: each promise gets its own pong.
  for (const ping of [ping2!, ping1!]) {
    last().receive({
      type: 'pong',
      message_id: `p${ping.message_id}`,
      timestamp: Date.now(),
      reply_to: ping.message_id,
      data: { ping_timestamp: ping.timestamp, server_timestamp: Date.now(), sequence: (ping.data as { sequence: number }).sequence },
    });
  }
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.ok(r1 >= 0 && r2 >= 0);
  const m = c.getMetrics();
  assert.equal(m.latencies.length, 2);
  assert.ok(m.averageLatency !== null && m.recentLatency !== null);
});

test('a server error answering a request rejects it and is emitted with code, message and details', async () => {
  const c = makeClient();
  c.connect().catch(() => {});
  last().open();
  last().receive(welcome('s', 't'));
  const errors: unknown[] = [];
  c.on('error', (e) => errors.push(e));
  const stats = c.requestStats(['webrtc']);
  const req = last().ofType('get-stats')[0]!;
  assert.deepEqual(req.data, { stats_type: ['webrtc'] });
  last().receive({
    type: 'error',
    message_id: 'e1',
    timestamp: Date.now(),
    reply_to: req.message_id,
    error: { code: 'RATE_LIMITED', message: 'Too many messages.', details: 'limit=50/s' },
  });
  await assert.rejects(stats, (e: Error & { code?: string; details?: string; source?: string }) => {
    return e.code === 'RATE_LIMITED' && e.details === 'limit=50/s' && e.source === 'server';
  });
  assert.equal(errors.length, 1);
  assert.equal(c.getMetrics().errors, 1);
});

test('stats resolve requestStats; an unparseable server frame is reported, not thrown', async () => {
  const c = makeClient();
  c.connect().catch(() => {});
  last().open();
  last().receive(welcome('s', 't'));
  const stats = c.requestStats();
  const req = last().ofType('get-stats')[0]!;
  last().receive({ type: 'stats', message_id: 'x', timestamp: Date.now(), reply_to: req.message_id, data: { system: { cpu: 1 } } });
  assert.deepEqual(await stats, { system: { cpu: 1 } });
  const bad = c.next('error');
  last().onmessage?.({ data: '{nope' });
  assert.equal((await bad).code, 'INVALID_SERVER_MESSAGE');
});

test('requestOffer without an RTCPeerConnection fails clearly (Node without one injected)', async () => {
  const c = makeClient();
  c.on('error', () => {});
  await assert.rejects(c.requestOffer(), /No RTCPeerConnection/);
});

test('input helpers send protocol messages in the documented shapes', async () => {
  const c = makeClient();
  c.connect().catch(() => {});
  last().open();
  last().receive(welcome('s', 't'));
  c.mouseMove(10, 20);
  c.mouseClick(10, 20, 'back', 'down', { shift: true, ctrl: false, alt: false, meta: false });
  c.mouseWheel(0, -2, 10, 20);
  c.key({ key: 'A', code: 'KeyA', keyCode: 65, action: 'down', repeat: false });
  c.sendKeyEvent('Enter', 13);
  const sent = last().sent.slice(1).map((m) => ({ type: m.type, data: m.data }));
  assert.deepEqual(sent, [
    { type: 'mouse-move', data: { x: 10, y: 20 } },
    { type: 'mouse-click', data: { x: 10, y: 20, button: 'back', action: 'down', modifiers: { shift: true, ctrl: false, alt: false, meta: false } } },
    { type: 'mouse-wheel', data: { dx: 0, dy: -2, x: 10, y: 20 } },
    { type: 'key-press', data: { key: 'A', code: 'KeyA', key_code: 65, action: 'down', repeat: false } },
    { type: 'key-press', data: { key: 'Enter', key_code: 13 } },
  ]);
});

test('a message larger than max_message_size is refused locally instead of getting the connection closed', async () => {
  const c = makeClient();
  c.connect().catch(() => {});
  last().open();
  last().receive(welcome('s', 't'));
  const err = c.next('error');
  c.send('get-stats', { stats_type: ['x'.repeat(70_000)] });
  assert.equal((await err).code, 'MESSAGE_TOO_LARGE');
  assert.equal(last().ofType('get-stats').length, 0);
});

test('sendAnswer and sendIceCandidate (for a self-managed peer connection) use the protocol shapes', async () => {
  const c = makeClient();
  c.connect().catch(() => {});
  last().open();
  last().receive(welcome('s', 't'));
  c.sendAnswer({ type: 'answer', sdp: 'v=0\r\n' });
  c.sendIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
  assert.deepEqual(last().sent.slice(1).map((m) => m.data), [
    { sdp: { type: 'answer', sdp: 'v=0\r\n' } },
    { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } },
  ]);
});
