import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/processes.js';
import { WsPeer } from '../helpers/ws-peer.js';

const peers: WsPeer[] = [];
async function open(server: TestServer, options = {}): Promise<WsPeer> {
  const peer = await WsPeer.open(server.wsUrl, options);
  peers.push(peer);
  return peer;
}

/** A connection is alive when a ping still gets its pong. */
async function assertAlive(peer: WsPeer): Promise<void> {
  const id = peer.request('ping', { sequence: 7 });
  const pong = await peer.reply(id);
  assert.equal(pong.type, 'pong');
}

function assertError(message: Record<string, any>, code: string): void {
  assert.equal(message.type, 'error', `expected an error, got ${JSON.stringify(message)}`);
  assert.equal(message.error.code, code, JSON.stringify(message.error));
  assert.equal(typeof message.error.message, 'string');
  if (message.error.details !== undefined) assert.equal(typeof message.error.details, 'string');
  assert.ok(Number.isInteger(message.timestamp), 'server timestamps are integer ms');
}

describe('signaling conformance (docs/protocol.md) against the real server', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.stop();
  });

  test('hello gets a welcome with session_id, resume_token, protocol_version, server_info and session_config in ms', async () => {
    const peer = await open(server);
    const welcome = await peer.hello({ client_info: { platform: 'test' }, capabilities: ['webrtc'], supported_protocols: ['gstreamer-1.0'] });
    assert.equal(welcome.type, 'welcome');
    assert.equal(typeof welcome.message_id, 'string');
    assert.ok(Number.isInteger(welcome.timestamp));
    const d = welcome.data;
    assert.equal(typeof d.session_id, 'string');
    assert.equal(typeof d.resume_token, 'string');
    assert.equal(typeof d.protocol_version, 'string');
    assert.equal(d.server_info.name, 'streamgate');
    assert.equal(d.session_config.heartbeat_interval, 30000);
    assert.equal(d.session_config.max_message_size, 65536);
    assert.ok(d.session_config.liveness_timeout >= 90000, 'liveness never shorter than 90 s by default');
    assert.ok(Array.isArray(d.session_config.ice_servers));
    assert.equal(typeof d.session_config.input_enabled, 'boolean');
  });

  test('peer_id is echoed in the client\'s own JSON type: number stays number, string stays string', async () => {
    const a = await open(server);
    const numeric = await a.hello({}, 12345);
    assert.equal(numeric.peer_id, 12345);
    assert.equal(numeric.data.peer_id, 12345);
    const b = await open(server);
    const textual = await b.hello({}, '12345');
    assert.equal(textual.peer_id, '12345');
    const pong = await b.reply(b.request('ping'));
    assert.equal(pong.peer_id, '12345');
  });

  test('two connections with the same peer_id get separate sessions', async () => {
    const a = await open(server);
    const b = await open(server);
    const wa = await a.hello({}, '498081');
    const wb = await b.hello({}, '498081');
    assert.notEqual(wa.data.session_id, wb.data.session_id);
    await assertAlive(a);
    await assertAlive(b);
  });

  test('a second hello on the same connection is answered with a fresh welcome of the same session', async () => {
    const peer = await open(server);
    const first = await peer.hello();
    const second = await peer.hello();
    assert.equal(second.type, 'welcome');
    assert.equal(second.data.session_id, first.data.session_id);
    assert.notEqual(second.message_id, first.message_id);
  });

  test('messages before hello get NOT_REGISTERED and the connection stays open; ping is always answered', async () => {
    const peer = await open(server);
    for (const type of ['request-offer', 'get-stats', 'answer', 'mouse-move', 'key-press']) {
      const data = type === 'mouse-move' ? { x: 1, y: 1 } : type === 'key-press' ? { key: 'a' } : type === 'answer' ? { sdp: { type: 'answer', sdp: 'v=0' } } : {};
      const id = peer.request(type, data);
      assertError(await peer.reply(id), 'NOT_REGISTERED');
    }
    await assertAlive(peer);
  });

  test('pong echoes ping_timestamp verbatim (ms, seconds or float), echoes sequence, adds integer server_timestamp', async () => {
    const peer = await open(server);
    await peer.hello();
    for (const timestamp of [Date.now(), Math.floor(Date.now() / 1000), 1700000000.123]) {
      const id = `p${timestamp}`;
      peer.send({ type: 'ping', peer_id: 'test', message_id: id, timestamp, data: { client_state: 'connected', sequence: 42 } });
      const pong = await peer.reply(id);
      assert.equal(pong.data.ping_timestamp, timestamp);
      assert.equal(pong.data.sequence, 42);
      assert.ok(Number.isInteger(pong.data.server_timestamp));
      assert.ok(Math.abs(pong.data.server_timestamp - Date.now()) < 60_000);
    }
  });

  test('get-stats returns real system (cpu, memory, load, uptime) and network (connections, messages, bytes) sections', async () => {
    const peer = await open(server);
    await peer.hello();
    const stats = (await peer.reply(peer.request('get-stats', { stats_type: ['webrtc', 'system', 'network'] }))).data;
    assert.equal(typeof stats.system.cpu.process_percent, 'number');
    assert.equal(stats.system.cpu.load_average.length, 3);
    assert.ok(stats.system.memory.rss_bytes > 1_000_000);
    assert.equal(typeof stats.system.uptime_seconds, 'number');
    assert.ok(stats.network.connections >= 1);
    assert.ok(stats.network.connection.messages_in >= 2, 'hello and get-stats were counted');
    assert.ok(stats.network.server.bytes_out > 0);
    assert.ok(stats.webrtc);
    const onlySystem = (await peer.reply(peer.request('get-stats', { stats_type: ['system', 'bogus'] }))).data;
    assert.deepEqual(Object.keys(onlySystem), ['system']);
    const all = (await peer.reply(peer.request('get-stats'))).data;
    assert.deepEqual(Object.keys(all).sort(), ['network', 'system', 'webrtc']);
  });

  test('malformed input gets INVALID_JSON / INVALID_MESSAGE / UNKNOWN_MESSAGE_TYPE and the connection survives', async () => {
    const peer = await open(server);
    await peer.hello();
    peer.send('{not json');
    assertError(await peer.next((m) => m.type === 'error'), 'INVALID_JSON');
    for (const bad of ['[1,2]', '"text"', '42', 'null', '{}', '{"type":5}', '{"type":""}']) {
      peer.send(bad);
      assertError(await peer.next((m) => m.type === 'error'), 'INVALID_MESSAGE');
    }
    peer.send(Buffer.from([1, 2, 3]), { binary: true });
    const binaryError = await peer.next((m) => m.type === 'error');
    assertError(binaryError, 'INVALID_MESSAGE');
    const wrongField = peer.request('mouse-move', { x: 'left', y: 3 });
    const fieldError = await peer.reply(wrongField);
    assertError(fieldError, 'INVALID_MESSAGE');
    assert.match(fieldError.error.details, /data\.x/);
    const wrongEnvelope = await (async () => {
      peer.send({ type: 'ping', message_id: 'env1', timestamp: 'yesterday' });
      return peer.reply('env1');
    })();
    assertError(wrongEnvelope, 'INVALID_MESSAGE');
    const unknown = peer.request('teleport', {});
    assertError(await peer.reply(unknown), 'UNKNOWN_MESSAGE_TYPE');
    await assertAlive(peer);
  });

  test('unknown fields are ignored (forward compatible)', async () => {
    const peer = await open(server);
    peer.send({ type: 'hello', peer_id: 'x', message_id: 'h1', timestamp: 1, future_field: { a: 1 }, data: { client_info: {}, new_thing: true } });
    const welcome = await peer.reply('h1');
    assert.equal(welcome.type, 'welcome');
  });

  test('answer and ice-candidate without an offer get NO_ACTIVE_SESSION and the connection stays open', async () => {
    const peer = await open(server);
    await peer.hello();
    assertError(await peer.reply(peer.request('answer', { sdp: { type: 'answer', sdp: 'v=0\r\n' } })), 'NO_ACTIVE_SESSION');
    assertError(await peer.reply(peer.request('ice-candidate', { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } })), 'NO_ACTIVE_SESSION');
    await assertAlive(peer);
  });

  test('input on a source without a desktop is refused with FORBIDDEN', async () => {
    const peer = await open(server);
    await peer.hello();
    assertError(await peer.reply(peer.request('mouse-move', { x: 10, y: 10 })), 'FORBIDDEN');
    assertError(await peer.reply(peer.request('key-press', { key: 'a', action: 'down' })), 'FORBIDDEN');
    await assertAlive(peer);
  });

  test('a frame over max_message_size gets MESSAGE_TOO_LARGE and the connection is closed with 1009', async () => {
    const peer = await open(server);
    await peer.hello();
    peer.send(JSON.stringify({ type: 'ping', data: { client_state: 'x'.repeat(70_000) } }));
    assertError(await peer.next((m) => m.type === 'error'), 'MESSAGE_TOO_LARGE');
    assert.equal(await peer.closed(), 1009);
  });

  test('take-over needs session_id and resume_token: the older connection is closed with 4001', async () => {
    const older = await open(server);
    const welcome = await older.hello({}, 'same');
    const impostor = await open(server);
    const fresh = await impostor.hello({ session_id: welcome.data.session_id, resume_token: 'wrong' }, 'same');
    assert.notEqual(fresh.data.session_id, welcome.data.session_id, 'a wrong token gets a new session');
    assert.equal(fresh.data.resumed, false);
    await assertAlive(older);
    const newer = await open(server);
    const resumed = await newer.hello({ session_id: welcome.data.session_id, resume_token: welcome.data.resume_token }, 'same');
    assert.equal(resumed.data.session_id, welcome.data.session_id);
    assert.equal(resumed.data.resumed, true);
    assert.equal(await older.closed(), 4001);
    await assertAlive(newer);
  });

  test('/healthz answers 200 and /metrics exposes connections, messages by type, errors by code and handling latency', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['streamgate_connections', 'streamgate_messages_total{direction="in",type="hello"}', 'streamgate_errors_total{code="INVALID_JSON"}', 'streamgate_message_handling_seconds_bucket']) {
      assert.ok(metrics.includes(name), `metrics lack ${name}`);
    }
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /html/);
  });
});

describe('limits and lifecycle close codes', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const p of peers) p.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('RATE_LIMITED keeps the connection open; persistent flooding closes it with 1008', async () => {
    const server = await startServer(['--rate-limit', '5']);
    servers.push(server);
    const peer = await open(server);
    await peer.hello();
    for (let i = 0; i < 20; i++) peer.request('ping');
    const limited = await peer.next((m) => m.type === 'error');
    assertError(limited, 'RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 1200));
    await assertAlive(peer);
    const flood = setInterval(() => {
      if (peer.ws.readyState === peer.ws.OPEN) for (let i = 0; i < 50; i++) peer.request('ping');
    }, 50);
    try {
      assert.equal(await peer.closed(10_000), 1008);
    } finally {
      clearInterval(flood);
    }
  });

  test('SERVER_BUSY and close 1013 past --max-peers; other peers are unaffected', async () => {
    const server = await startServer(['--max-peers', '2']);
    servers.push(server);
    const a = await open(server);
    const b = await open(server);
    await a.hello();
    const c = await open(server);
    assertError(await c.next((m) => m.type === 'error'), 'SERVER_BUSY');
    assert.equal(await c.closed(), 1013);
    await assertAlive(a);
    await assertAlive(b);
  });

  test('every refused input event gets FORBIDDEN, but a flood of them logs at most 5 lines a second, the rest counted', async () => {
    const server = await startServer();
    servers.push(server);
    const peer = await open(server);
    await peer.hello();
    const ids = Array.from({ length: 60 }, (_, i) => peer.request('mouse-move', { x: i, y: i }));
    for (const id of ids) assertError(await peer.reply(id), 'FORBIDDEN');
    const lines = () => server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('error sent:'));
    assert.ok(lines().length <= 5 * 2, `60 refusals in about a second logged ${lines().length} lines`);
    await new Promise((r) => setTimeout(r, 1100));
    assertError(await peer.reply(peer.request('mouse-move', { x: 1, y: 1 })), 'FORBIDDEN');
    const accounted = () => lines().length + lines().reduce((sum, l) => sum + (typeof l.suppressed_before === 'number' ? l.suppressed_before : 0), 0);
    // The 61st refusal opens a new window: its line carries the count of those left out before it.
    await waitUntil('every refusal to be logged or counted', () => accounted() === 61, 3000);
    assert.ok(lines().some((l) => typeof l.suppressed_before === 'number'), 'the left-out lines are counted in a later one');
  });

  test('a silent peer (no pong to WebSocket pings) is closed with 4000; an answering one stays', async () => {
    const server = await startServer(['--heartbeat-interval', '200', '--liveness-timeout', '800']);
    servers.push(server);
    const silent = await open(server, { autoPong: false });
    const answering = await open(server);
    await answering.hello();
    assert.equal(await silent.closed(5000), 4000);
    await new Promise((r) => setTimeout(r, 1000));
    await assertAlive(answering);
  });

  test('SIGTERM closes every client with 1001 and the server exits 0 promptly', async () => {
    const server = await startServer();
    const a = await open(server);
    const b = await open(server);
    await a.hello();
    const started = Date.now();
    const exit = server.stop('SIGTERM');
    assert.equal(await a.closed(), 1001);
    assert.equal(await b.closed(), 1001);
    assert.equal(await exit, 0);
    assert.ok(Date.now() - started < 5000, 'exit within 5 s');
  });

  test('a bad configuration fails at start with a message naming the setting: values, unknown file keys, key files, conflicts', async () => {
    await assert.rejects(startServer(['--resolution', 'big']), /--resolution \(from command line\)/);
    await assert.rejects(startServer([], { STREAMGATE_MAX_MESSAGE_SIZE: '-1' }), /--max-message-size \(from \$STREAMGATE_MAX_MESSAGE_SIZE\)/);
    const dir = mkdtempSync(join(tmpdir(), 'sg-config-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ port: 0, heartbeatIntervall: 5 }));
      await assert.rejects(startServer(['--config', file]), /heartbeatIntervall/);
      writeFileSync(join(dir, 'bad.pem'), 'not a key');
      await assert.rejects(startServer(['--jwt-public-key', join(dir, 'bad.pem')]), /--jwt-public-key: cannot read a PEM public key/);
      await assert.rejects(startServer(['--jwt-secret', 'x'.repeat(40), '--jwt-public-key', join(dir, 'bad.pem')]), /not both/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
