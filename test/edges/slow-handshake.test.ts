import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { HANDSHAKE_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, TIMEOUT_CHECK_INTERVAL_MS } from '../../src/http/edge-limits.js';
import { socketCount, waitUntil } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { GoodClient, RssWatch, assertUndisturbed, closedAfter, rawSocket } from './watch.js';

const IDLE = 100;
const SLOW = 20;
/** A socket closed by the handshake timeout goes within the timeout plus one check, plus slack for a busy machine. */
const DROPPED_WITHIN_MS = HANDSHAKE_TIMEOUT_MS + TIMEOUT_CHECK_INTERVAL_MS + 5000;

const UPGRADE_REQUEST = 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

describe('connections that never finish their HTTP request are dropped and hold no slot', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  before(async () => {
    // Few peer slots: the half-open sockets below outnumber them, and must not take them.
    server = await startServer(['--max-peers', '5', '--max-peers-per-ip', '5']);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await server.stop();
  });

  test('idle TCP, a byte-a-second upgrade request (slowloris) and an idle keep-alive connection', { timeout: 60_000 }, async (t) => {
    const pid = server.process.pid!;
    const baseline = socketCount(pid);
    const rss = new RssWatch(pid);
    const good = await GoodClient.start(server.wsUrl);
    const t0 = performance.now();

    const idle = await Promise.all(Array.from({ length: IDLE }, (_, i) => rawSocket(server.port, `127.0.0.${2 + (i % 50)}`)));
    sockets.push(...idle);
    const idleClosed = idle.map((s) => closedAfter(s, t0));

    const slow = await Promise.all(Array.from({ length: SLOW }, () => rawSocket(server.port, '127.0.0.77')));
    sockets.push(...slow);
    const slowClosed = slow.map((s) => closedAfter(s, t0));
    let sentBytes = 0;
    const drip = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(UPGRADE_REQUEST[sentBytes % (UPGRADE_REQUEST.length - 2)]!);
      sentBytes++;
    }, 1000);

    // A page load that keeps its connection open afterwards, as browsers do.
    const keepAlive = await rawSocket(server.port, '127.0.0.78');
    sockets.push(keepAlive);
    const keepAliveClosed = closedAfter(keepAlive, performance.now());
    keepAlive.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');

    await waitUntil('the server holds the half-open sockets', () => socketCount(pid) >= baseline + IDLE + SLOW, 10_000);
    // The peer slots are all free: five real clients still get in while the half-open sockets wait.
    const peers = await Promise.all(Array.from({ length: 4 }, () => WsPeer.open(server.wsUrl)));
    for (const [i, p] of peers.entries()) assert.equal((await p.hello({}, `p${i}`)).type, 'welcome');
    for (const p of peers) p.close();

    const kept = await keepAliveClosed;
    assert.match(kept.text, /^HTTP\/1\.1 200/, 'the keep-alive request was answered');
    assert.ok(kept.ms >= KEEP_ALIVE_TIMEOUT_MS - 500 && kept.ms < KEEP_ALIVE_TIMEOUT_MS + 5000, `idle keep-alive closed after ${kept.ms.toFixed(0)} ms`);

    const idleTimes = await Promise.all(idleClosed);
    const slowResults = await Promise.all(slowClosed);
    clearInterval(drip);
    for (const { ms, text } of idleTimes) {
      assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 500 && ms < DROPPED_WITHIN_MS, `idle socket closed after ${ms.toFixed(0)} ms`);
      assert.match(text, /^(HTTP\/1\.1 408 |$)/, `an idle socket gets 408 or nothing: ${JSON.stringify(text.slice(0, 80))}`);
    }
    for (const { ms, text } of slowResults) {
      assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 500 && ms < DROPPED_WITHIN_MS, `slowloris closed after ${ms.toFixed(0)} ms`);
      assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'the slowloris is told 408');
    }
    await waitUntil('the server lets go of every dropped socket', () => socketCount(pid) <= baseline + 1, 10_000);

    t.diagnostic(assertUndisturbed(await good.stop(), 'good client during slow handshakes'));
    t.diagnostic(rss.finish('slow handshakes'));
    assert.equal(server.process.exitCode, null, 'the server is still running');
  });

  test('a WebSocket that completes its upgrade is no longer under the handshake timeout', { timeout: 30_000 }, async () => {
    const socket = await rawSocket(server.port);
    sockets.push(socket);
    const closed = closedAfter(socket, performance.now());
    socket.write(UPGRADE_REQUEST);
    await new Promise((r) => setTimeout(r, DROPPED_WITHIN_MS - 4000));
    socket.destroy();
    const { text } = await closed;
    assert.match(text, /^HTTP\/1\.1 101 /, 'upgraded');
    assert.ok(!/408/.test(text), 'not timed out as an HTTP request');
  });
});
