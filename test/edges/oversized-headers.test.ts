import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startServer, type TestServer } from '../helpers/server.js';
import { GoodClient, RssWatch, assertUndisturbed, closedAfter, rawSocket } from './watch.js';

/** Node's default --max-http-header-size is 16 KiB; these go well past it. */
const HEADER_BYTES = [20_000, 64 * 1024, 1024 * 1024];

describe('oversized HTTP headers are refused with 431 and the server keeps serving', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await server.stop();
  });

  test('one huge header, many headers, and an upgrade request with a huge cookie: 431 then close', { timeout: 60_000 }, async (t) => {
    const rss = new RssWatch(server.process.pid!);
    const good = await GoodClient.start(server.wsUrl);
    const requests = [
      ...HEADER_BYTES.map((n) => `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(n)}\r\n\r\n`),
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Array.from({ length: 2500 }, (_, i) => `h${i % 10}:v`).join('\r\n')}\r\n\r\n`,
      ...HEADER_BYTES.map((n) => `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: ${'c'.repeat(n)}\r\n\r\n`),
    ];
    const t0 = performance.now();
    // At least a few seconds, so the good client's pings can show a stall if there is one.
    for (let round = 0; round < 10 || performance.now() - t0 < 3000; round++) {
      const results = await Promise.all(
        requests.map(async (request) => {
          const socket = await rawSocket(server.port);
          sockets.push(socket);
          const closed = closedAfter(socket, performance.now());
          // The server may close mid-send once it has seen enough; what it wrote first is what counts.
          socket.on('error', () => undefined);
          socket.write(request);
          return closed;
        }),
      );
      for (const [i, { ms, text }] of results.entries()) {
        // 2500 tiny headers fit under 16 KiB: Node drops the ones past maxHeadersCount (2000) and answers.
        const expected = i === HEADER_BYTES.length ? /^HTTP\/1\.1 200 / : /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/;
        // A request far larger than the socket buffers may still be sending when the server answers and
        // closes: the reset can then discard the 431 before it is read. Refused and closed is what counts.
        const resetMidSend = text === '' && requests[i]!.length > 256 * 1024;
        if (!resetMidSend) assert.match(text, expected, `request ${i} (round ${round}) got ${JSON.stringify(text.slice(0, 60))}`);
        assert.ok(ms < 10_000, `request ${i} closed after ${ms.toFixed(0)} ms`);
      }
    }
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, 'a normal request still works');
    t.diagnostic(assertUndisturbed(await good.stop(), 'good client during oversized headers'));
    t.diagnostic(rss.finish('oversized headers'));
  });
});
