/**
 * A child process holding N werift viewers (the client SDK in Node with werift as RTCPeerConnection)
 * of one stream, counting what each receives: frames (RTP marker bits), packets, bytes, sequence gaps.
 * Driven over IPC by benchmarks/fanout.ts: {cmd:'add', n} → {ev:'added', live}; {cmd:'start'} resets
 * the counters; {cmd:'report'} → {ev:'report', viewers:[…]}; {cmd:'exit'}.
 */
import WebSocket from 'ws';
import { RTCPeerConnection as WeriftPeerConnection, useH264, useOPUS, useVP8, type MediaStreamTrack as WeriftTrack, type RtpPacket } from 'werift';
import { StreamgateClient, type PeerConnectionConstructor } from '../src/client/index.js';

/** werift skips loopback unless told, and answers only VP8 video unless given more codecs. */
export class LoopbackPeerConnection extends WeriftPeerConnection {
  constructor(config: Record<string, unknown> = {}) {
    super({ ...config, iceAdditionalHostAddresses: ['127.0.0.1'], codecs: { video: [useH264(), useVP8()], audio: [useOPUS()] } });
  }
}

interface Counter {
  frames: number;
  packets: number;
  bytes: number;
  lost: number;
  lastSeq: number;
  lastTs: number;
  /** Largest gap between two completed frames, ms (a stall shows here). */
  maxFrameGapMs: number;
  lastFrameAt: number;
}

const url = process.argv[2]!;
const codec = process.argv[3] ?? 'H264';
const clients: StreamgateClient[] = [];
const counters: Counter[] = [];
let failures = 0;

function fresh(): Counter {
  return { frames: 0, packets: 0, bytes: 0, lost: 0, lastSeq: -1, lastTs: -1, maxFrameGapMs: 0, lastFrameAt: 0 };
}

function onRtp(c: Counter, rtp: RtpPacket): void {
  c.packets++;
  c.bytes += rtp.payload.length + 12;
  const seq = rtp.header.sequenceNumber;
  if (c.lastSeq >= 0) {
    const gap = (seq - c.lastSeq + 65536) % 65536;
    if (gap > 1 && gap < 1000) c.lost += gap - 1;
  }
  c.lastSeq = seq;
  if (rtp.header.marker && rtp.header.timestamp !== c.lastTs) {
    c.lastTs = rtp.header.timestamp;
    c.frames++;
    const now = performance.now();
    if (c.lastFrameAt) c.maxFrameGapMs = Math.max(c.maxFrameGapMs, now - c.lastFrameAt);
    c.lastFrameAt = now;
  }
}

async function addViewer(index: number): Promise<void> {
  const counter = fresh();
  counters[index] = counter;
  const client = new StreamgateClient({
    url,
    WebSocket,
    RTCPeerConnection: LoopbackPeerConnection as unknown as PeerConnectionConstructor,
    peerId: `fanout-${process.pid}-${index}`,
    requestTimeoutMs: 30_000,
    autoReconnect: false,
    heartbeat: false,
    logger: null,
  });
  clients.push(client);
  client.on('track', ({ track }) => {
    const t = track as unknown as WeriftTrack;
    if (t.kind !== 'video') return;
    t.onReceiveRtp.subscribe((rtp) => onRtp(counters[index]!, rtp));
  });
  await client.connect();
  await client.requestOffer({ video: true, audio: false }, [codec]);
  const live = client.waitFor('live');
  await Promise.race([live, new Promise((_, reject) => setTimeout(() => reject(new Error('not live in 20 s')), 20_000))]);
}

process.on('message', (msg: { cmd: string; n?: number }) => {
  void (async () => {
    if (msg.cmd === 'add') {
      const start = clients.length;
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < (msg.n ?? 0); i++) {
        jobs.push(addViewer(start + i).catch(() => void failures++));
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(jobs);
      process.send!({ ev: 'added', live: clients.filter((c) => c.state === 'live').length, failures });
    } else if (msg.cmd === 'start') {
      for (let i = 0; i < counters.length; i++) counters[i] = { ...fresh(), lastSeq: counters[i]!.lastSeq, lastTs: counters[i]!.lastTs };
      process.send!({ ev: 'started' });
    } else if (msg.cmd === 'report') {
      process.send!({ ev: 'report', viewers: counters.map((c, i) => ({ ...c, state: clients[i]?.state })) });
    } else if (msg.cmd === 'exit') {
      await Promise.all(clients.map((c) => c.disconnect().catch(() => undefined)));
      process.exit(0);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
process.send!({ ev: 'ready' });
