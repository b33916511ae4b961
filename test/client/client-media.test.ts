/**
 * The SDK's full flow in Node against the real server, with werift as the RTCPeerConnection:
 * request-offer → offer → answer + candidates → connected (state `live`), tracks received, the
 * server's "input" data channel opened and used for input. Everything but decoding frames.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RTCPeerConnection as WeriftPeerConnection } from 'werift';
import { StreamgateClient, type PeerConnectionConstructor } from '../../src/client/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { relay } from './tcp-relay.js';

/** werift skips loopback unless told; the server offers 127.0.0.1 candidates in tests. */
class LoopbackPeerConnection extends WeriftPeerConnection {
  constructor(config: Record<string, unknown> = {}) {
    super({ ...config, iceAdditionalHostAddresses: ['127.0.0.1'] });
  }
}

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

function mediaClient(url = server.wsUrl): StreamgateClient {
  const c = new StreamgateClient({
    url,
    WebSocket,
    RTCPeerConnection: LoopbackPeerConnection as unknown as PeerConnectionConstructor,
    peerId: 'node-media',
    requestTimeoutMs: 20_000,
  });
  clients.push(c);
  return c;
}

test('requestOffer negotiates with werift in Node: answer sent, peer connected, state live, tracks received', async () => {
  const c = mediaClient();
  const errors: string[] = [];
  c.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
  const kinds: string[] = [];
  c.on('track', ({ track }) => kinds.push(track.kind));
  const offers: string[] = [];
  c.on('offer', (m) => offers.push(m.data.sdp.sdp));
  await c.connect();
  await c.requestOffer({ video: true, audio: true }, ['VP8', 'H264']);
  assert.equal(offers.length, 1);
  assert.match(offers[0]!, /^m=video /m);
  await c.waitFor('live');
  assert.equal(c.peerConnection?.connectionState, 'connected');
  assert.ok(kinds.includes('video'), `tracks: ${kinds.join(',')}`);
  assert.deepEqual(errors, []);
});

test('input goes over the "input" data channel once it is open', async () => {
  const c = mediaClient();
  const opened = c.next('input-channel', (open) => open);
  await c.connect();
  await c.requestOffer({ video: true, audio: false });
  await opened;
  assert.equal(c.usingDataChannel, true);
  const sentBefore = c.getMetrics().messagesSent;
  c.mouseMove(10, 10);
  assert.equal(c.getMetrics().messagesSent, sentBefore + 1);
  // The server answers input problems (if any) over the WebSocket; a ping still round-trips.
  assert.ok((await c.ping()) >= 0);
});

test('a second requestOffer renegotiates on the same peer connection (same DTLS fingerprint)', async () => {
  const c = mediaClient();
  await c.connect();
  await c.requestOffer({ video: true, audio: false });
  await c.waitFor('live');
  const pc = c.peerConnection;
  await c.requestOffer({ video: true, audio: false });
  assert.equal(c.peerConnection, pc, 'renegotiation keeps the peer connection');
  await c.waitFor('live');
});

test('a signaling cut while streaming resumes the session and keeps the media: same peer connection, live again', async () => {
  const r = await relay(server.port);
  try {
    const c = mediaClient(`ws://127.0.0.1:${r.port}/ws`);
    const first = await c.connect();
    await c.requestOffer({ video: true, audio: false });
    await c.waitFor('live');
    const pc = c.peerConnection;
    const resumed = c.next('welcome');
    const reoffered = c.next('offer');
    r.cut(); // only the WebSocket: media flows directly between the peers
    const w = (await resumed).data;
    assert.equal(w.resumed, true);
    assert.equal(w.session_id, first.session_id);
    await reoffered; // the client asks again for the stream it had; the server renegotiates
    await c.waitFor('live');
    assert.equal(c.peerConnection, pc, 'the taken-over media kept its peer connection');
  } finally {
    await r.close();
  }
});
