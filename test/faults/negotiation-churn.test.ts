import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from 'werift';
import { startServer, type TestServer } from '../helpers/server.js';
import { describeSockets, descendants, socketCount, waitUntil } from '../helpers/processes.js';
import { prng } from '../helpers/prng.js';
import { WsPeer } from '../helpers/ws-peer.js';

const CLIENTS = 1000;
const CONCURRENCY = 40;
/** Where a client drops out: 0 before hello … 6 after an ICE candidate; 7 = after a real connected peer. */
const STAGES = 8;

let server: TestServer;
before(async () => {
  server = await startServer([
    '--resolution', '320x180', '--framerate', '15', '--bitrate', '300',
    '--resume-grace', '300', '--max-peers', '5000', '--max-peers-per-ip', '5000', '--rate-limit', '1000',
    // A small old space makes V8 collect as it goes, so heap figures show what is live: a leak would grow
    // between rounds (or run out), garbage does not. Without it V8 let 50 MiB of garbage pile up between rounds.
  ], { NODE_OPTIONS: '--max-old-space-size=80' });
});
after(async () => {
  await server?.stop();
});

async function serverFigures(): Promise<{ viewers: number; sessions: number; rss: number; heap: number }> {
  const peer = await WsPeer.open(server.wsUrl);
  await peer.hello();
  const stats = (await peer.reply(peer.request('get-stats', { stats_type: ['system', 'network'] }))).data;
  peer.close();
  await peer.closed();
  const memory = stats.system.memory;
  return { viewers: stats.system.media.viewers, sessions: stats.network.sessions - 1, rss: memory.rss_bytes, heap: memory.heap_used_bytes };
}

/** `count` clients, CONCURRENCY at a time, each leaving at a random stage; fails on any unanswered request. */
async function churn(random: () => number, count: number): Promise<void> {
  const stages = Array.from({ length: count }, () => {
    const s = Math.floor(random() * STAGES);
    // Full peers are the expensive kind: keep them to about 3 %.
    return s === 7 && random() > 0.25 ? Math.floor(random() * 7) : s;
  });
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < stages.length) {
        const stage = stages[next++]!;
        await churnOne(random, stage).catch((err: Error) => failures.push(`stage ${stage}: ${err.message}`));
      }
    }),
  );
  assert.deepEqual(failures, [], 'every client got the answers it waited for');
}

async function churnOne(random: () => number, stage: number): Promise<void> {
  const peer = await WsPeer.open(server.wsUrl);
  const abrupt = random() < 0.5;
  const leave = () => (abrupt ? peer.ws.terminate() : peer.ws.close());
  let pc: RTCPeerConnection | undefined;
  try {
    if (stage === 0) return;
    const helloId = peer.request('hello', { capabilities: ['webrtc'] });
    if (stage === 1) return;
    await peer.reply(helloId);
    if (stage === 2) return;
    const offerId = peer.request('request-offer', { codec_preferences: [random() < 0.5 ? 'H264' : 'VP8'] });
    if (stage === 3) return;
    const offer = await peer.reply(offerId, 20_000);
    assert.equal(offer.type, 'offer', JSON.stringify(offer));
    if (stage === 4) return;
    if (stage === 5) {
      const answerId = peer.request('answer', { sdp: { type: 'answer', sdp: 'v=0\r\nbogus\r\n' } });
      await peer.reply(answerId);
      return;
    }
    if (stage === 6) {
      peer.request('ice-candidate', { candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
      return;
    }
    pc = new RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'] });
    pc.onIceCandidate.subscribe((c) => {
      if (c) peer.request('ice-candidate', { candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? '0', sdpMLineIndex: c.sdpMLineIndex ?? 0 } });
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.data.sdp.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    peer.request('answer', { sdp: { type: 'answer', sdp: pc.localDescription!.sdp } });
    const connected = pc;
    await waitUntil('werift peer connected', () => connected.connectionState === 'connected', 20_000);
  } finally {
    leave();
    await pc?.close();
  }
}

test('1000 clients leaving at random points of negotiation leave zero peer connections, sessions, extra sockets, processes; memory settles', async (t) => {
  const pid = server.process.pid!;
  const baselineSockets = socketCount(pid);
  const baselineChildren = descendants(pid).length;
  const warm = await serverFigures();
  const random = prng(99);
  await churn(random, CLIENTS);
  let last = warm;
  await waitUntil('no peer connection or session left', async () => {
    last = await serverFigures();
    return last.viewers === 0 && last.sessions === 0;
  }, 20_000).catch((err: Error) => {
    const registered = new Set(server.logs.filter((l) => l.msg === 'session registered').map((l) => l.session as string));
    for (const l of server.logs) if (l.msg === 'connection closed') registered.delete(l.session as string);
    const open = server.logs.filter((l) => l.msg === 'session registered' && registered.has(l.session as string));
    assert.fail(`${err.message}: ${JSON.stringify(last)}; sessions never closed: ${JSON.stringify(open)}`);
  });
  await waitUntil('encoder workers stopped after the last viewer', () => descendants(pid).length === baselineChildren, 20_000);
  // Each (source, codec) stream keeps one RTP fan-out socket bound for the server's life: H264, VP8 and audio here.
  const streamSockets = 3;
  await waitUntil(`sockets back to the baseline of ${baselineSockets} + ${streamSockets}`, () => socketCount(pid) <= baselineSockets + streamSockets, 10_000).catch((err: Error) =>
    assert.fail(`${err.message}: ${socketCount(pid)} now (${describeSockets(pid).join(', ')}); ${descendants(pid).length} children`),
  );
  const settled = await serverFigures();
  // RSS rarely shrinks: a leak shows as heap growth that goes on. A second round must not grow the heap past GC noise.
  await churn(random, CLIENTS / 2);
  await waitUntil('no session after the second round', async () => (await serverFigures()).sessions === 0, 20_000);
  const again = await serverFigures();
  const mib = (n: number) => Math.round(n / 2 ** 20);
  t.diagnostic(`server RSS ${mib(warm.rss)} → ${mib(settled.rss)} → ${mib(again.rss)} MiB, heap used ${mib(warm.heap)} → ${mib(settled.heap)} → ${mib(again.heap)} MiB after ${CLIENTS} and ${CLIENTS / 2} more clients; sockets ${socketCount(pid)} (baseline ${baselineSockets})`);
  assert.ok(again.heap < settled.heap * 1.25 + 8 * 2 ** 20, `heap grew again: ${settled.heap} → ${again.heap}`);
  assert.ok(settled.rss < warm.rss + 150 * 1024 * 1024, `RSS ${settled.rss} vs ${warm.rss} before the churn`);
});
