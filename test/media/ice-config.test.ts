/** The ICE part of the server's werift peer connections, from --ice-servers, --turn-secret, --public-ip and --udp-ports. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RTCPeerConnection } from 'werift';
import { peerIceConfig, udpPortShortfall, udpPortsPerViewer } from '../../src/media/ice-config.js';
import type { MediaSettings } from '../../src/media/types.js';

const settings = (over: Partial<MediaSettings> = {}): MediaSettings => ({
  source: { kind: 'test' },
  framerate: 30,
  bitrate: 2500,
  width: 320,
  height: 240,
  iceAddresses: ['127.0.0.1'],
  iceServers: [{ urls: 'turn:turn.example.com:3478' }],
  ...over,
});

test('TURN entries get credentials for the session; the public address is one more host address; ports pass on', () => {
  const ice = peerIceConfig(settings({ turnRest: { secret: 'k'.repeat(16), ttlMs: 60_000 }, publicAddress: '203.0.113.7', udpPortRange: [40000, 40099] }), 'sess');
  assert.match(ice.iceServers?.[0]?.username ?? '', /^\d+:sess$/);
  assert.ok(ice.iceServers?.[0]?.credential);
  assert.deepEqual(ice.iceAdditionalHostAddresses, ['127.0.0.1', '203.0.113.7']);
  assert.deepEqual(ice.icePortRange, [40000, 40099]);
  const plain = peerIceConfig(settings({ iceServers: [] }), 'sess');
  assert.deepEqual(plain, { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], icePortRange: undefined });
});

test('werift gathers on the public address, every socket in the range', async () => {
  const pc = new RTCPeerConnection(peerIceConfig(settings({ iceServers: [], publicAddress: '203.0.113.7', udpPortRange: [41100, 41199] }), 's'));
  try {
    pc.createDataChannel('probe');
    const offer = await pc.createOffer();
    for (const transport of pc.iceTransports) transport.connection.stunServer = undefined;
    await pc.setLocalDescription(offer);
    const candidates = (pc.localDescription?.sdp.match(/^a=candidate:.*$/gm) ?? []).map((line) => line.split(' '));
    assert.ok(candidates.some((c) => c[4] === '203.0.113.7' && c[7] === 'host'), candidates.map((c) => c.join(' ')).join('\n'));
    for (const c of candidates) assert.ok(Number(c[5]) >= 41100 && Number(c[5]) <= 41199, c.join(' '));
  } finally {
    await pc.close();
  }
});

test('a --udp-ports range too small for --max-peers is named, with how many viewers it serves', () => {
  const s = settings({ udpPortRange: [40000, 40009] });
  const per = udpPortsPerViewer(s);
  assert.ok(per >= 2, 'loopback and the TURN client at least');
  assert.match(udpPortShortfall(s, 200) ?? '', new RegExp(`gives 10 ports, ${per} per viewer here: ${Math.floor(10 / per)} viewers at once, fewer than --max-peers 200`));
  assert.equal(udpPortShortfall(s, Math.floor(10 / per)), undefined);
  assert.equal(udpPortShortfall(settings(), 200), undefined, 'no range: any free port');
});
