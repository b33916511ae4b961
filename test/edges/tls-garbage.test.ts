import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDSHAKE_TIMEOUT_MS } from '../../src/http/edge-limits.js';
import { socketCount, waitUntil } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { GoodClient, RssWatch, assertUndisturbed, closedAfter, rawSocket } from './watch.js';

const GARBAGE_CONNECTIONS = 200;

describe('garbage on the TLS port neither crashes nor stalls the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-edges-tls-'));
  let server: TestServer;
  const sockets: Socket[] = [];
  before(async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    server = await startServer(['--tls-cert', cert, '--tls-key', key]);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('random bytes, plain HTTP, a truncated ClientHello, silent sockets and a silent TLS session; a wss client keeps working', { timeout: 60_000 }, async (t) => {
    const pid = server.process.pid!;
    const wss = `wss://127.0.0.1:${server.port}/ws`;
    const baseline = socketCount(pid);
    const rss = new RssWatch(pid);
    const good = await GoodClient.start(wss, { rejectUnauthorized: false });
    const t0 = performance.now();

    // Silent sockets: TCP open, no ClientHello ever. Only the TLS handshake timeout can end them.
    const silent = await Promise.all(Array.from({ length: 20 }, (_, i) => rawSocket(server.port, `127.0.1.${1 + i}`)));
    sockets.push(...silent);
    const silentClosed = silent.map((s) => closedAfter(s, t0));

    // Past the handshake but silent: the HTTP request timeout applies as on the plain port.
    const quiet = connectTls({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
    sockets.push(quiet);
    const quietClosed = closedAfter(quiet, t0);

    const garbage: Promise<{ ms: number; text: string }>[] = [];
    for (let i = 0; i < GARBAGE_CONNECTIONS; i++) {
      const socket = await rawSocket(server.port, `127.0.2.${1 + (i % 200)}`);
      sockets.push(socket);
      const closed = closedAfter(socket, performance.now());
      socket.on('error', () => undefined);
      const kind = i % 3;
      if (kind === 0) socket.write(randomBytes(64 + (i % 4000)));
      // A plaintext request, as from someone who typed http:// for an https:// server.
      else if (kind === 1) socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      // A TLS record header announcing a handshake, then junk where the ClientHello should be.
      else socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), randomBytes(512)]));
      garbage.push(closed);
    }
    const closedTimes = await Promise.all(garbage);
    // Random bytes that happen to start like a TLS record wait for the rest of it: the handshake timeout ends those.
    for (const [i, { ms }] of closedTimes.entries()) assert.ok(ms < HANDSHAKE_TIMEOUT_MS + 6000, `garbage connection ${i} closed after ${ms.toFixed(0)} ms`);
    const prompt = closedTimes.filter(({ ms }) => ms < 5000).length;
    assert.ok(prompt >= GARBAGE_CONNECTIONS * 0.9, `only ${prompt} of ${GARBAGE_CONNECTIONS} garbage connections were refused at once`);

    // A new wss client gets in while the silent sockets still wait.
    const fresh = await WsPeer.open(wss, { rejectUnauthorized: false });
    assert.equal((await fresh.hello({}, 'fresh')).type, 'welcome');
    fresh.close();

    for (const { ms } of await Promise.all(silentClosed)) {
      assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 500 && ms < HANDSHAKE_TIMEOUT_MS + 6000, `a silent TLS socket closed after ${ms.toFixed(0)} ms`);
    }
    const { ms: quietMs, text: quietText } = await quietClosed;
    assert.ok(quietMs >= HANDSHAKE_TIMEOUT_MS - 500 && quietMs < HANDSHAKE_TIMEOUT_MS + 6000, `a silent TLS session closed after ${quietMs.toFixed(0)} ms`);
    assert.match(quietText, /^(HTTP\/1\.1 408 |$)/, 'a silent TLS session gets 408 or nothing');
    await waitUntil('the server lets go of every garbage socket', () => socketCount(pid) <= baseline + 1, 10_000);
    t.diagnostic(assertUndisturbed(await good.stop(), 'wss client during TLS garbage'));
    t.diagnostic(rss.finish('TLS garbage'));
    assert.equal(server.process.exitCode, null, 'the server is still running');
  });
});
