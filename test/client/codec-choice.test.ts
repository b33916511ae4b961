/**
 * The codec choice follows the browser: preferences ordered by RTCRtpReceiver.getCapabilities, an
 * answer that refuses a section found in SDP fixtures (Firefox without OpenH264 answering an H.264-only
 * offer), and the client that reports it as UNSUPPORTED_CODEC and asks once more for what it can decode.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { decodableVideoCodecs, orderByDecodable, rejectedSections } from '../../src/client/codec-support.js';
import { StreamgateClient, type PeerConnectionConstructor, type StreamgateError } from '../../src/client/index.js';
import { MemorySocket, welcome } from './memory-socket.js';

/** An offer as the server's werift makes it: video first in BUNDLE, then audio, then the input channel. */
function offer(videoCodec: 'H264' | 'VP8'): string {
  const pt = videoCodec === 'H264' ? 96 : 97;
  return [
    'v=0',
    'o=- 1 0 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1 2',
    'a=fingerprint:sha-256 AA:BB',
    `m=video 9 UDP/TLS/RTP/SAVPF ${pt} 98`,
    'a=mid:0',
    `a=rtpmap:${pt} ${videoCodec}/90000`,
    'a=rtpmap:98 rtx/90000',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:1',
    'a=rtpmap:111 opus/48000/2',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'a=mid:2',
    '',
  ].join('\r\n');
}

/** Firefox's answer to an H.264 offer without OpenH264: the video section refused, and with it BUNDLE's first tag. */
const REFUSING_ANSWER = [
  'v=0',
  'o=mozilla...THIS_IS_SDPARTA-153.0 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 1 2',
  'm=video 0 UDP/TLS/RTP/SAVPF 0',
  'a=mid:0',
  'a=inactive',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:1',
  'a=rtpmap:111 opus/48000/2',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:2',
  '',
].join('\r\n');

/** An answer taking every section keeps their ports: for the section check, the offer itself will do. */
const accepting = (sdp: string): string => sdp;

test('the decodable codecs come from getCapabilities, upper case, without rtx/red/ulpfec; unknown without it', () => {
  const receiver = { getCapabilities: () => ({ codecs: [{ mimeType: 'video/VP8' }, { mimeType: 'video/rtx' }, { mimeType: 'video/VP9' }, { mimeType: 'video/ulpfec' }] }) };
  assert.deepEqual([...decodableVideoCodecs(receiver)!], ['VP8', 'VP9']);
  assert.equal(decodableVideoCodecs(undefined), null, 'Node with werift: nobody can say');
  assert.equal(decodableVideoCodecs({ getCapabilities: () => null }), null);
});

test("preferences: decodable codecs first in the app's order, the rest after; one codec and unknown capabilities stay as they are", () => {
  const firefox = new Set(['VP8', 'VP9']);
  assert.deepEqual(orderByDecodable(['H264', 'VP8', 'VP9'], firefox), ['VP8', 'VP9', 'H264']);
  assert.deepEqual(orderByDecodable(['VP9', 'H264', 'VP8'], firefox), ['VP9', 'VP8', 'H264']);
  assert.deepEqual(orderByDecodable(['h264', 'vp8'], new Set(['H264', 'VP8'])), ['h264', 'vp8']);
  assert.deepEqual(orderByDecodable(['H264'], firefox), ['H264'], 'a single codec is forced');
  assert.deepEqual(orderByDecodable(['H264', 'VP8'], null), ['H264', 'VP8'], 'Node keeps the order');
});

test('an answer with m=video 0 names the refused video section and what was offered; an accepting answer names none', () => {
  assert.deepEqual(rejectedSections(offer('H264'), REFUSING_ANSWER), [{ kind: 'video', mid: '0', offeredCodecs: ['H264'] }]);
  assert.deepEqual(rejectedSections(offer('VP8'), accepting(offer('VP8'))), []);
  const noAudio = REFUSING_ANSWER.replace('m=video 0', 'm=video 9').replace('m=audio 9', 'm=audio 0');
  assert.deepEqual(rejectedSections(offer('VP8'), noAudio), [{ kind: 'audio', mid: '1', offeredCodecs: ['OPUS'] }]);
  // A section the offer itself disabled is not the answer's refusal.
  assert.deepEqual(rejectedSections(offer('H264').replace('m=video 9', 'm=video 0'), REFUSING_ANSWER), []);
});

/** A browser peer connection that, like Firefox without OpenH264, refuses H.264 video and takes VP8. */
class VP8OnlyPeerConnection {
  static created = 0;
  static rollbacks = 0;
  signalingState = 'stable';
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  private remote = '';
  onicecandidate: unknown = null;
  ontrack: unknown = null;
  ondatachannel: unknown = null;
  onconnectionstatechange: unknown = null;
  constructor() {
    VP8OnlyPeerConnection.created++;
  }
  async setRemoteDescription(d: { type: string; sdp?: string }): Promise<void> {
    if (d.type === 'rollback') VP8OnlyPeerConnection.rollbacks++;
    this.remote = d.sdp ?? '';
    this.signalingState = d.type === 'rollback' ? 'stable' : 'have-remote-offer';
  }
  async createAnswer(): Promise<{ type: string; sdp: string }> {
    return { type: 'answer', sdp: /H264/.test(this.remote) ? REFUSING_ANSWER : accepting(this.remote) };
  }
  async setLocalDescription(d: { type: string; sdp: string }): Promise<void> {
    this.localDescription = d;
    this.signalingState = 'stable';
  }
  async addIceCandidate(): Promise<void> {}
  close(): void {
    this.connectionState = 'closed';
  }
}

const g = globalThis as { RTCRtpReceiver?: unknown };
afterEach(() => {
  delete g.RTCRtpReceiver;
  VP8OnlyPeerConnection.created = VP8OnlyPeerConnection.rollbacks = 0;
  MemorySocket.all = [];
});

async function offeredClient(): Promise<{ client: StreamgateClient; socket: MemorySocket; errors: StreamgateError[]; answered: Promise<void> }> {
  const client = new StreamgateClient({
    url: 'ws://127.0.0.1:1/ws',
    WebSocket: MemorySocket,
    RTCPeerConnection: VP8OnlyPeerConnection as unknown as PeerConnectionConstructor,
    heartbeat: false,
    codecPreferences: ['H264'],
  });
  const errors: StreamgateError[] = [];
  client.on('error', (e) => errors.push(e));
  const answered = client.requestOffer();
  const socket = MemorySocket.all.at(-1)!;
  socket.open();
  socket.receive(welcome('sess-1', 'tok-1'));
  return { client, socket, errors, answered };
}

const offerMessage = (codec: 'H264' | 'VP8', n: number): Record<string, unknown> => ({
  type: 'offer',
  message_id: `o${n}`,
  timestamp: Date.now(),
  data: { sdp: { type: 'offer', sdp: offer(codec) }, codec },
});

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok());
}

test('a refused video section is an UNSUPPORTED_CODEC error naming it, and the offer is asked for once more with what the browser decodes', async () => {
  g.RTCRtpReceiver = { getCapabilities: () => ({ codecs: [{ mimeType: 'video/VP8' }, { mimeType: 'video/rtx' }] }) };
  const { client, socket, errors, answered } = await offeredClient();
  try {
    const requests = (): Record<string, unknown>[] => socket.ofType('request-offer').map((m) => m.data as Record<string, unknown>);
    assert.deepEqual(requests()[0]!.codec_preferences, ['H264'], 'one codec is the app forcing it: sent as it is');
    socket.receive(offerMessage('H264', 1));
    await until(() => requests().length === 2);
    assert.equal(socket.ofType('answer').length, 0, 'the refusing answer is not sent: it would kill the shared transport');
    const error = errors.find((e) => e.code === 'UNSUPPORTED_CODEC');
    assert.ok(error, `errors: ${errors.map((e) => e.code).join(', ')}`);
    assert.equal(error.source, 'client');
    assert.match(error.message, /cannot play the offered video \(H264\); asking the server for VP8 instead/);
    assert.match(error.details ?? '', /refused video \(mid 0, offered H264\); this browser decodes VP8/);
    assert.deepEqual(requests()[1]!.codec_preferences, ['VP8']);

    socket.receive(offerMessage('VP8', 2));
    await answered;
    assert.equal(socket.ofType('answer').length, 1);
    assert.deepEqual(
      { created: VP8OnlyPeerConnection.created, rollbacks: VP8OnlyPeerConnection.rollbacks },
      { created: 1, rollbacks: 1 },
      'the refused offer was rolled back, and the same peer connection answered the next',
    );
  } finally {
    await client.disconnect();
  }
});

test('refused again after the one retry: requestOffer() rejects with UNSUPPORTED_CODEC instead of waiting forever', async () => {
  g.RTCRtpReceiver = { getCapabilities: () => ({ codecs: [{ mimeType: 'video/VP8' }] }) };
  const { client, socket, answered } = await offeredClient();
  try {
    const rejected = assert.rejects(answered, (e: StreamgateError) => e.code === 'UNSUPPORTED_CODEC' && /cannot play the offered video \(H264\)\.$/.test(e.message));
    socket.receive(offerMessage('H264', 1));
    await until(() => socket.ofType('request-offer').length === 2);
    // A server with only H.264 offers it again.
    socket.receive(offerMessage('H264', 2));
    await rejected;
    assert.equal(socket.ofType('request-offer').length, 2, 'asked once more, not in a loop');
  } finally {
    await client.disconnect();
  }
});
