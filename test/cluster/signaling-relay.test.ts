import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { ServerMessageSchema } from '../../src/protocol/index.js';
import { relayedClientAddress } from '../../src/cluster/relay-headers.js';
import { SignalingRelay, type RelayFailure } from '../../src/cluster/signaling-relay.js';
import { SignalingRelays } from '../../src/cluster/signaling-relays.js';
import { logger } from '../../src/log.js';
import { waitUntil } from '../helpers/processes.js';

const OWNER_SCRIPT = fileURLToPath(new URL('./echo-owner.js', import.meta.url));
const OWNER_HOST = '127.0.0.2';
const RELAY_HOST = '127.0.0.3';
const SECRET = 'cluster-secret-for-tests';
const DESKTOP = 'alice';

type OwnerEvent = Record<string, unknown> & { event: string };

interface Owner {
  child: ChildProcessWithoutNullStreams;
  port: number;
  events: OwnerEvent[];
  next(event: string, after?: number): Promise<OwnerEvent>;
}

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startOwner(): Promise<Owner> {
  const child = spawn(process.execPath, [OWNER_SCRIPT, OWNER_HOST], { stdio: ['pipe', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  const events: OwnerEvent[] = [];
  let partial = '';
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) events.push(JSON.parse(line) as OwnerEvent);
  });
  const next = async (event: string, from = 0): Promise<OwnerEvent> => {
    await waitUntil(`the owner reports "${event}"`, () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the owner exited (${child.exitCode ?? child.signalCode}) before reporting "${event}"; stderr: ${errors}`);
      return events.slice(from).some((e) => e.event === event);
    }, 15_000);
    return events.slice(from).find((e) => e.event === event)!;
  };
  const listening = await next('listening');
  return { child, port: listening.port as number, events, next };
}

interface RelayNode {
  port: number;
  /** The relay node's side of each client WebSocket, and its relay. */
  sessions: { socket: WebSocket; relay: SignalingRelay; ended: Promise<RelayFailure | null> }[];
}

async function startRelayNode(ownerWsUrl: string, options: { connectTimeoutMs?: number; highWaterBytes?: number } = {}): Promise<RelayNode> {
  // As the wiring will: no automatic pongs, so the client's own pongs reach the owner.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false, handleProtocols: (protocols) => (protocols.has('streamgate') ? 'streamgate' : false) });
  const node: RelayNode = { port: 0, sessions: [] };
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (request: IncomingMessage, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      const relay = new SignalingRelay({
        client: ws,
        request,
        desktop: DESKTOP,
        owner: { id: 'owner-1', wsUrl: ownerWsUrl },
        via: { nodeId: 'relay-1', secret: SECRET },
        log: logger('test.relay'),
        ...options,
      });
      node.sessions.push({ socket: ws, relay, ended: once(relay, 'end').then(([failure]) => failure) });
    });
  });
  server.listen(0, RELAY_HOST);
  await once(server, 'listening');
  node.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    for (const session of node.sessions) session.relay.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return node;
}

async function connectClient(relay: RelayNode): Promise<{ ws: WebSocket; messages: { text: string; binary: boolean }[]; closed: Promise<[number, string]> }> {
  const ws = new WebSocket(`ws://${RELAY_HOST}:${relay.port}/ws/${DESKTOP}?token=query-token`, ['streamgate', 'bearer.proto-token'], {
    headers: { authorization: 'Bearer header-token', origin: `http://${RELAY_HOST}:${relay.port}`, 'x-streamgate-client-address': '10.9.9.9', cookie: 'session=of-another-site' },
  });
  cleanups.push(() => ws.terminate());
  const messages: { text: string; binary: boolean }[] = [];
  ws.on('message', (data, binary) => messages.push({ text: (data as Buffer).toString(), binary }));
  const closed = once(ws, 'close').then(([code, reason]) => [code as number, (reason as Buffer).toString()] as [number, string]);
  await once(ws, 'open');
  return { ws, messages, closed };
}

/** The client's view of a relay that lost its owner: one MEDIA_UNAVAILABLE naming the desktop, then 1013. */
async function assertOwnerLost(client: Awaited<ReturnType<typeof connectClient>>, within: number): Promise<void> {
  const started = Date.now();
  const [code] = await client.closed;
  assert.ok(Date.now() - started < within, `closed after ${Date.now() - started} ms`);
  assert.equal(code, 1013);
  const last = client.messages.at(-1);
  assert.ok(last, 'an error message came before the close');
  const parsed = ServerMessageSchema.parse(JSON.parse(last.text)) as { type: string; error?: { code: string; message: string; details?: string } };
  assert.equal(parsed.type, 'error');
  assert.equal(parsed.error?.code, 'MEDIA_UNAVAILABLE');
  assert.match(parsed.error?.message ?? '', /Desktop "alice" is unavailable: its node "owner-1"/);
  assert.equal(parsed.error?.details, 'desktop=alice');
}

describe('signaling relay to the owner node', () => {
  test('frames pass both ways verbatim, with the client\'s credentials and a signed client address', async () => {
    const owner = await startOwner();
    const relay = await startRelayNode(`ws://${OWNER_HOST}:${owner.port}`);
    const client = await connectClient(relay);
    assert.equal(client.ws.protocol, 'streamgate');

    const connection = await owner.next('connection');
    const headers = connection.headers as Record<string, string>;
    assert.equal(connection.url, '/ws/alice?token=query-token');
    assert.equal(headers.authorization, 'Bearer header-token');
    assert.deepEqual(headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()), ['streamgate', 'bearer.proto-token']);
    assert.equal(headers.origin, undefined, 'the relay node checked the origin; the owner sees a non-browser client');
    assert.equal(headers['x-streamgate-relay-node'], 'relay-1');
    assert.equal(headers.cookie, undefined, 'only credentials and the user agent are forwarded');
    const asRequest = (secret: string) => relayedClientAddress({ headers } as IncomingMessage, secret);
    assert.equal(asRequest(SECRET), '127.0.0.1', 'the owner learns the client\'s address from a signed claim');
    assert.equal(asRequest('another-secret'), null, 'a claim signed with another secret is ignored');
    assert.notEqual(headers['x-streamgate-client-address'], '10.9.9.9', 'a client cannot vouch for its own address');

    const text = '{"type":"hello",   "data":{"name":"é ✓ \\u0000"} }';
    client.ws.send(text);
    client.ws.send(Buffer.from([0, 1, 2, 255]));
    await waitUntil('both echoes arrive', () => client.messages.length === 2, 5000);
    assert.deepEqual(client.messages[0], { text, binary: false });
    assert.deepEqual(client.messages[1], { text: Buffer.from([0, 1, 2, 255]).toString(), binary: true });
  });

  test('close codes pass through in both directions; a client that drops is a drop at the owner', async () => {
    const owner = await startOwner();
    const relay = await startRelayNode(`ws://${OWNER_HOST}:${owner.port}`);

    const replaced = await connectClient(relay);
    replaced.ws.send(JSON.stringify({ cmd: 'close', code: 4001, reason: 'replaced by a newer connection' }));
    assert.deepEqual(await replaced.closed, [4001, 'replaced by a newer connection']);
    assert.equal(await relay.sessions[0]!.ended, null);
    // The owner reports its own close once its handshake is done; the next connection's events come after.
    assert.equal((await owner.next('close')).code, 4001);

    const mark = owner.events.length;
    const leaving = await connectClient(relay);
    await owner.next('connection', mark);
    leaving.ws.close(1000, 'bye');
    const normal = await owner.next('close', mark);
    assert.deepEqual([normal.code, normal.reason], [1000, 'bye']);

    const mark2 = owner.events.length;
    const dropping = await connectClient(relay);
    await owner.next('connection', mark2);
    dropping.ws.terminate();
    const dropped = await owner.next('close', mark2);
    assert.equal(dropped.code, 1006, 'the owner keeps the session for a resume, as for a direct client that drops');
  });

  test('an owner SIGKILLed mid-session: MEDIA_UNAVAILABLE naming the desktop, then 1013, no hang', async () => {
    const owner = await startOwner();
    const relay = await startRelayNode(`ws://${OWNER_HOST}:${owner.port}`);
    const client = await connectClient(relay);
    client.ws.send('{"type":"ping"}');
    await waitUntil('the echo arrives', () => client.messages.length === 1, 5000);
    owner.child.kill('SIGKILL');
    await assertOwnerLost(client, 5000);
    assert.equal(await relay.sessions[0]!.ended, 'dropped');
  });

  test('an owner that refuses the connection, or never answers it, or leaves the cluster: MEDIA_UNAVAILABLE', async () => {
    const owner = await startOwner();
    owner.child.kill('SIGKILL');
    await once(owner.child, 'exit');
    const refusing = await startRelayNode(`ws://${OWNER_HOST}:${owner.port}`);
    await assertOwnerLost(await connectClient(refusing), 5000);
    assert.equal(await refusing.sessions[0]!.ended, 'refused');

    // Takes the TCP connection and never answers the upgrade, like a host that hangs.
    const silent = createTcpServer((socket: Socket) => cleanups.push(() => void socket.destroy()));
    silent.listen(0, OWNER_HOST);
    await once(silent, 'listening');
    cleanups.push(() => void silent.close());
    const hanging = await startRelayNode(`ws://${OWNER_HOST}:${(silent.address() as AddressInfo).port}`, { connectTimeoutMs: 500 });
    await assertOwnerLost(await connectClient(hanging), 5000);
    assert.equal(await hanging.sessions[0]!.ended, 'timeout');

    const live = await startOwner();
    const relay = await startRelayNode(`ws://${OWNER_HOST}:${live.port}`);
    const client = await connectClient(relay);
    await live.next('connection');
    relay.sessions[0]!.relay.ownerGone();
    await assertOwnerLost(client, 5000);
    assert.equal(await relay.sessions[0]!.ended, 'gone');
  });

  test('a client that does not read: the relay holds at most its high-water mark, the rest waits at the owner, and all arrives in order', async () => {
    const highWaterBytes = 256 * 1024;
    const frame = 64 * 1024;
    const total = 64 * 1024 * 1024;
    const owner = await startOwner();
    const relay = await startRelayNode(`ws://${OWNER_HOST}:${owner.port}`, { highWaterBytes });
    const client = await connectClient(relay);
    const relaySide = relay.sessions[0]!.socket;
    client.ws.pause();
    let maxHeld = 0;
    const sampler = setInterval(() => (maxHeld = Math.max(maxHeld, relaySide.bufferedAmount)), 5);
    try {
      client.ws.send(JSON.stringify({ cmd: 'flood', bytes: total, frame }));
      const flooded = await owner.next('flooded');
      const frames = flooded.frames as number;
      await new Promise((r) => setTimeout(r, 1500));
      const mark = owner.events.length;
      client.ws.send(JSON.stringify({ cmd: 'buffered' }));
      const waiting = (await owner.next('buffered', mark)).amount as number;
      assert.ok(maxHeld <= highWaterBytes + frame, `the relay held up to ${maxHeld} bytes for the client; high-water mark ${highWaterBytes}`);
      assert.ok(waiting > 0, `the owner could not push everything (${waiting} of ${total} bytes still waiting there): the relay stopped reading it`);

      client.ws.resume();
      await waitUntil(`all ${frames} frames arrive`, () => client.messages.length === frames, 60_000);
      client.messages.forEach((m, i) => assert.equal((JSON.parse(m.text.trimEnd()) as { n: number }).n, i));
      assert.ok(maxHeld <= highWaterBytes + frame, `the relay held up to ${maxHeld} bytes while draining`);
    } finally {
      clearInterval(sampler);
    }
  });

  test('the node\'s relays: those to a node that leaves the cluster end, the others stay; shutdown closes clients with 1001', async () => {
    const owners = [await startOwner(), await startOwner()];
    const registry = new EventEmitter<{ 'node-gone': [nodeId: string] }>();
    const relays = new SignalingRelays({ registry, nodeId: 'relay-1', clusterSecret: SECRET, handleProtocols: () => 'streamgate', log: logger('test.relays') });
    const server = createServer();
    server.on('upgrade', (request: IncomingMessage, socket, head) => {
      const owner = request.url?.includes('second') ? 1 : 0;
      relays.handleUpgrade(request, socket, head, DESKTOP, { id: `owner-${owner}`, wsUrl: `ws://${OWNER_HOST}:${owners[owner]!.port}` });
    });
    server.listen(0, RELAY_HOST);
    await once(server, 'listening');
    cleanups.push(() => void server.close());
    const port = (server.address() as AddressInfo).port;
    const open = async (path: string) => {
      const ws = new WebSocket(`ws://${RELAY_HOST}:${port}${path}`, ['streamgate']);
      cleanups.push(() => ws.terminate());
      const closed = once(ws, 'close').then(([code]) => code as number);
      const messages: string[] = [];
      ws.on('message', (data) => messages.push((data as Buffer).toString()));
      await once(ws, 'open');
      return { ws, closed, messages };
    };
    const first = await open('/ws/alice');
    const second = await open('/ws/alice?second');
    await owners[0]!.next('connection');
    await owners[1]!.next('connection');
    assert.equal(relays.size, 2);

    registry.emit('node-gone', 'owner-0');
    assert.equal(await first.closed, 1013);
    assert.match(first.messages.at(-1) ?? '', /MEDIA_UNAVAILABLE/);
    second.ws.send('still here');
    await waitUntil('the other relay still carries frames', () => second.messages.includes('still here'), 5000);
    assert.equal(relays.size, 1);

    const mark = owners[1]!.events.length;
    await relays.shutdown();
    assert.equal(await second.closed, 1001);
    assert.equal((await owners[1]!.next('close', mark)).code, 1006, 'the owner keeps the session: the client resumes through another node');
    assert.equal(relays.size, 0);
  });
});
