import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';

let server: TestServer;
before(async () => {
  server = await startServer(['--hello-timeout', '600', '--max-peers-per-ip', '2']);
});
after(async () => {
  await server?.stop();
});

test('a WebSocket that never says hello is told NOT_REGISTERED and closed with 1008, freeing its slot; one that does stays', async () => {
  const silent = await WsPeer.open(server.wsUrl);
  const registered = await WsPeer.open(server.wsUrl);
  assert.equal((await registered.hello()).type, 'welcome');

  const error = await silent.next((m) => m.type === 'error', 5000);
  assert.equal(error.error.code, 'NOT_REGISTERED');
  assert.match(error.error.details, /hello_timeout=600/);
  assert.equal(await silent.closed(5000), 1008);

  // The freed slot is usable again (at most two per address), and the registered peer never noticed.
  const next = await WsPeer.open(server.wsUrl);
  assert.equal((await next.hello()).type, 'welcome');
  const pingId = registered.request('ping');
  assert.equal((await registered.reply(pingId)).type, 'pong');
  assert.equal(registered.closeCode, null);
  registered.close();
  next.close();
});
