import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';

let server: TestServer;
before(async () => {
  server = await startServer(['--rate-limit', '1000000']);
});
after(async () => {
  await server.stop();
});

test('a client that stops reading is dropped with 1008 once 8 MiB is unread; server memory stays bounded; others unaffected', async () => {
  const good = await WsPeer.open(server.wsUrl);
  await good.hello();
  const slow = await WsPeer.open(server.wsUrl);
  await slow.hello();
  const socket = (slow.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  const dropped = () => server.logs.some((l) => l.msg === 'dropping slow consumer');
  for (let round = 0; round < 200 && !dropped(); round++) {
    for (let i = 0; i < 500; i++) slow.request('get-stats');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(dropped(), 'the server noticed the slow consumer');
  socket.resume();
  assert.equal(await slow.closed(15_000), 1008);
  const pong = await good.reply(good.request('ping'));
  assert.equal(pong.type, 'pong');
  const stats = (await good.reply(good.request('get-stats', { stats_type: ['system'] }))).data;
  assert.ok(stats.system.memory.rss_bytes < 400 * 1024 * 1024, `server RSS ${stats.system.memory.rss_bytes}`);
  good.close();
});
