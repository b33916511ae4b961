/**
 * The SDK in Node (with npm `ws`) against the real server (`node dist/src/main.js --source test`):
 * hello/welcome, ping RTT, stats, server errors as events, reconnect after the server restarts, and
 * session resume after a network cut the server did not notice.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { StreamgateClient, type StateChange, type StreamgateClientOptions, type StreamgateError } from '../../src/client/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { relay } from './tcp-relay.js';

let server: TestServer;
const clients: StreamgateClient[] = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
});

function client(options: Partial<StreamgateClientOptions> = {}): StreamgateClient {
  const c = new StreamgateClient({
    url: server.wsUrl,
    WebSocket,
    backoff: { baseDelayMs: 50, maxDelayMs: 400 },
    ...options,
  });
  c.on('error', () => {}); // asserted where it matters
  clients.push(c);
  return c;
}

test('connect sends hello and resolves with the welcome: session id, resume token, ICE servers, the peer id echoed', async () => {
  const c = client({ peerId: 'node-bot' });
  const welcomes: unknown[] = [];
  c.on('welcome', (m) => welcomes.push(m));
  const w = await c.connect();
  assert.equal(c.state, 'open');
  assert.equal(typeof w.session_id, 'string');
  assert.equal(typeof w.resume_token, 'string');
  assert.equal(w.resumed, false);
  assert.ok(Array.isArray(w.session_config.ice_servers));
  assert.ok(w.session_config.heartbeat_interval > 0);
  assert.equal(w.peer_id, 'node-bot');
  assert.equal(welcomes.length, 1);
});

test('a numeric peer id comes back as a number', async () => {
  const w = await client({ peerId: 4242 }).connect();
  assert.equal(w.peer_id, 4242);
});

test('ping resolves with a measured round trip; metrics keep it', async () => {
  const c = client();
  await c.connect();
  const latencies: number[] = [];
  c.on('latency', (l) => latencies.push(l.rtt));
  const rtts = [await c.ping(), await c.ping(), await c.ping()];
  for (const rtt of rtts) assert.ok(rtt >= 0 && Number.isFinite(rtt));
  assert.deepEqual(latencies, rtts);
  const m = c.getMetrics();
  assert.equal(m.latencies.length, 3);
  assert.ok(m.averageLatency !== null && m.recentLatency !== null);
  assert.ok(m.messagesSent >= 4 && m.messagesReceived >= 4, JSON.stringify(m));
  assert.ok(m.uptime >= 0);
});

test('requestStats resolves with the sections asked for', async () => {
  const c = client();
  await c.connect();
  const all = await c.requestStats();
  assert.ok(all.system && all.network, `got sections ${Object.keys(all).join(',')}`);
  const some = await c.requestStats(['system']);
  assert.ok(some.system);
  assert.equal(some.network, undefined);
});

test('a server error arrives as an error event with code, message, and reply_to naming our message', async () => {
  const c = client();
  await c.connect();
  const error = c.next('error');
  const id = c.send('answer', { sdp: { type: 'answer', sdp: 'v=0\r\n' } });
  const e: StreamgateError = await error;
  assert.equal(e.source, 'server');
  assert.equal(e.code, 'NO_ACTIVE_SESSION');
  assert.ok(e.message.length > 0);
  assert.equal(e.replyTo, id);
  assert.equal(c.getMetrics().errors, 1);
  assert.equal(c.state, 'open', 'an error does not close the connection');
});

test('a bad message is refused by the server as INVALID_MESSAGE, naming the field', async () => {
  const c = client();
  await c.connect();
  const error = c.next('error');
  c.send('mouse-move', { x: 'left', y: 1 });
  const e = await error;
  assert.equal(e.code, 'INVALID_MESSAGE');
  assert.match(e.details ?? '', /data\.x/);
});

test('requests sent before connect are queued and answered after the welcome', async () => {
  const c = client();
  const stats = c.requestStats(['system']);
  assert.equal(c.getMetrics().queueSize, 1);
  await c.connect();
  assert.ok((await stats).system);
  assert.equal(c.getMetrics().queueSize, 0);
});

test('after a network cut the client resumes its session: same session id, resumed, the old connection replaced', async () => {
  const r = await relay(server.port);
  try {
    const c = client({ url: `ws://127.0.0.1:${r.port}/ws` });
    const first = await c.connect();
    const states: StateChange[] = [];
    c.on('state', (s) => states.push(s));
    const resumed = c.next('welcome');
    r.cut();
    const w = (await resumed).data;
    assert.equal(w.resumed, true, 'the server took the session over');
    assert.equal(w.session_id, first.session_id);
    assert.ok(states.some((s) => s.state === 'reconnecting' && s.closeCode === 1006));
    assert.equal(c.state, 'open');
    assert.equal(c.getMetrics().reconnects, 1);
    assert.ok((await c.ping()) >= 0, 'the resumed connection works');
  } finally {
    await r.close();
  }
});

test('when the server is killed and restarted on the same port, the client reconnects by itself', async () => {
  const port = server.port;
  const c = client();
  const first = await c.connect();
  const reconnecting = c.next('state', (s) => s.state === 'reconnecting');
  await server.stop('SIGKILL');
  const r = await reconnecting;
  assert.equal(r.closeCode, 1006);
  assert.ok((r.delayMs ?? -1) >= 0 && (r.delayMs ?? Infinity) <= 400, `delay ${r.delayMs} within the configured backoff`);
  const welcomed = c.next('welcome');
  server = await startServer(['--port', String(port)]);
  const w = (await welcomed).data;
  assert.equal(w.resumed, false, 'a new server process has no old session');
  assert.notEqual(w.session_id, first.session_id);
  assert.equal(c.state, 'open');
  assert.ok((await c.ping()) >= 0);
});

test('a graceful server shutdown (1001) is retried too', async () => {
  const port = server.port;
  const c = client();
  await c.connect();
  const closed = c.next('close');
  await server.stop('SIGTERM');
  const close = await closed;
  assert.equal(close.willReconnect, true, `close ${close.code} should be retried`);
  const welcomed = c.next('welcome');
  server = await startServer(['--port', String(port)]);
  await welcomed;
  assert.equal(c.state, 'open');
});

test('disconnect() closes for good: no reconnect when the server comes and goes', async () => {
  const c = client();
  await c.connect();
  await c.disconnect();
  assert.equal(c.state, 'closed');
  const states: string[] = [];
  c.on('state', (s) => states.push(s.state));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(states, []);
});
