import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { prng } from '../helpers/prng.js';
import { WsPeer } from '../helpers/ws-peer.js';

type Hostile = { frame: string | Buffer; binary?: boolean; expect: string };

/** One hostile frame and the error code the protocol names for it (docs/protocol.md, "Errors") (for a registered peer on a test source). */
function hostile(random: () => number): Hostile {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const big = (n: number) => 'x'.repeat(n);
  switch (Math.floor(random() * 12)) {
    case 0:
      return { frame: pick(['{', '{"type":', 'nul', '{"a":1,}', "{'type':'ping'}", '\u0000', '{"type":"ping"}}', '']), expect: 'INVALID_JSON' };
    case 1:
      return { frame: pick(['[]', '[{"type":"ping"}]', '1', '"ping"', 'null', 'true', '-0']), expect: 'INVALID_MESSAGE' };
    case 2:
      return { frame: JSON.stringify(pick([{}, { type: 1 }, { type: null }, { type: ['ping'] }, { type: '' }, { data: {} }])), expect: 'INVALID_MESSAGE' };
    case 3:
      return { frame: Buffer.from([random() * 255, 0, 1, 2]), binary: true, expect: 'INVALID_MESSAGE' };
    case 4:
      return { frame: JSON.stringify({ type: `t${Math.floor(random() * 1e6)}`, data: {} }), expect: 'UNKNOWN_MESSAGE_TYPE' };
    case 5:
      return {
        frame: JSON.stringify(pick([
          { type: 'mouse-move', data: { x: 'a', y: 1 } },
          { type: 'mouse-move', data: { x: 1e300, y: 1 } },
          { type: 'mouse-click', data: { x: 1, y: 1, button: 'nose' } },
          { type: 'key-press', data: {} },
          { type: 'key-press', data: { key: 5 } },
          { type: 'answer', data: { sdp: 'v=0' } },
          { type: 'ice-candidate', data: { candidate: 7 } },
          { type: 'request-offer', data: { constraints: { video: 'yes' } } },
          { type: 'get-stats', data: { stats_type: 'all' } },
          { type: 'ping', peer_id: { id: 1 } },
          { type: 'ping', timestamp: 'now' },
          { type: 'ping', data: [] },
          { type: 'hello', data: { capabilities: 'webrtc' } },
        ])),
        expect: 'INVALID_MESSAGE',
      };
    case 6:
      return { frame: JSON.stringify({ type: 'ping', data: { client_state: big(1000 + Math.floor(random() * 50_000)) } }), expect: 'INVALID_MESSAGE' };
    case 7: {
      const depth = 100 + Math.floor(random() * 20_000);
      return { frame: '{"type":"ping","data":' + '['.repeat(depth) + ']'.repeat(depth) + '}', expect: 'INVALID_MESSAGE' };
    }
    case 8:
      return { frame: JSON.stringify({ type: 'answer', data: { sdp: { type: 'answer', sdp: big(100) } } }), expect: 'NO_ACTIVE_SESSION' };
    case 9:
      return { frame: JSON.stringify({ type: 'mouse-click', data: { x: -5, y: 99999, button: 'left' } }), expect: 'FORBIDDEN' };
    case 10:
      return { frame: JSON.stringify({ type: 'ice-candidate', data: { candidate: { candidate: big(200), sdpMid: '0' } } }), expect: 'NO_ACTIVE_SESSION' };
    default:
      return { frame: JSON.stringify({ type: 'key-press', data: { key: '\u{1F600}', action: 'down', modifiers: { shift: 'yes' } } }), expect: 'INVALID_MESSAGE' };
  }
}

describe('hostile input: 100k generated bad messages from several connections while a good client pings', () => {
  let server: TestServer;
  before(async () => {
    // Rate limits out of the way: this test checks that every bad message gets its own right error.
    server = await startServer(['--rate-limit', '1000000', '--input-rate-limit', '1000000']);
  });
  after(async () => {
    await server.stop();
  });

  test('every bad message gets the right error, oversize frames close with 1009, the good client is never disturbed', async () => {
    const good = await WsPeer.open(server.wsUrl);
    await good.hello({}, 'good');
    let pongs = 0;
    let pings = 0;
    const pinger = setInterval(() => {
      pings++;
      good.request('ping', { sequence: pings });
    }, 20);
    good.ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type === 'pong') pongs++;
    });

    const CONNECTIONS = 4;
    const PER_CONNECTION = 25_000;
    const BATCH = 500;
    const mismatches: string[] = [];
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, index) => {
        const random = prng(1234 + index);
        const peer = await WsPeer.open(server.wsUrl);
        await peer.hello({}, index);
        for (let done = 0; done < PER_CONNECTION; done += BATCH) {
          const expected: string[] = [];
          for (let i = 0; i < BATCH; i++) {
            const h = hostile(random);
            expected.push(h.expect);
            peer.send(h.frame, { binary: h.binary ?? false });
          }
          sent += BATCH;
          // Synchronous rejections can overtake async handlers, so compare the batch as a multiset of codes.
          const got: string[] = [];
          for (let i = 0; i < expected.length; i++) {
            const reply = await peer.next(() => true, 20_000);
            got.push(reply.type === 'error' ? reply.error.code : `(${reply.type})`);
          }
          const want = expected.sort().join(',');
          if (got.sort().join(',') !== want) mismatches.push(`batch at ${done}: expected ${want}\n got ${got.join(',')}`);
        }
        assert.equal(peer.closeCode, null, 'bad messages never close the connection');
        peer.close();
      }),
    );

    for (let i = 0; i < 20; i++) {
      const peer = await WsPeer.open(server.wsUrl);
      peer.send(JSON.stringify({ type: 'ping', data: { client_state: 'y'.repeat(65_537 + i * 10_000) } }));
      const reply = await peer.next();
      assert.equal(reply.error.code, 'MESSAGE_TOO_LARGE');
      assert.equal(await peer.closed(), 1009);
      sent++;
    }

    clearInterval(pinger);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mismatches.length, 0, mismatches.slice(0, 5).join('\n'));
    assert.ok(sent >= 100_000, `sent ${sent}`);
    assert.equal(good.closeCode, null, 'the good client was never disconnected');
    assert.ok(pongs >= pings - 2, `the good client got ${pongs} of ${pings} pongs`);
    assert.equal(good.received.filter((m) => m.type === 'error').length, 0, 'the good client saw no errors');
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, 'the server is still up');
    good.close();
  });
});
