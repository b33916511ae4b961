/**
 * The "feels local" extensions on the wire, against a virtual desktop: a client that announces nothing
 * (as the seed clients) gets none of their messages; `participants`, `control-requested` and
 * `hand-over-control` behave as docs/protocol.md says; share links need auth.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer, type Json } from '../helpers/ws-peer.js';

const EXTENSION_TYPES = ['cursor', 'pointer', 'clipboard', 'participants', 'control-requested', 'screen'];
let server: TestServer;
const peers: WsPeer[] = [];

async function join(capabilities: string[] = []): Promise<{ peer: WsPeer; welcome: Json }> {
  const peer = await WsPeer.open(server.wsUrl);
  peers.push(peer);
  const welcome = await peer.hello(capabilities.length ? { capabilities } : {});
  return { peer, welcome };
}

before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '320x240', '--app', 'sleep 100000', '--resize', 'controller']);
});

after(async () => {
  for (const p of peers) p.close();
  await server?.stop();
});

test('a client that announces no capability gets no extension message', async () => {
  const seed = await join();
  const other = await join(['cursor', 'participants', 'resize']);
  await other.peer.next((m) => m.type === 'participants');
  await other.peer.next((m) => m.type === 'screen');
  await other.peer.next((m) => m.type === 'cursor');
  other.peer.request('request-control');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(seed.peer.received.filter((m) => EXTENSION_TYPES.includes(m.type)), []);
});

test('participants, a refused request shown to the controller, and hand-over', async () => {
  const controller = peers[0]!;
  const watcherJoin = await join(['participants']);
  const watcher = watcherJoin.peer;
  const list = await watcher.next((m) => m.type === 'participants' && m.data.participants.length === 3);
  const controllerId = list.data.controller_session_id as string;
  assert.equal(list.data.participants.filter((p: Json) => p.in_control).length, 1);
  assert.equal(list.data.participants.find((p: Json) => p.in_control).session_id, controllerId);

  // The second peer (capable of participants) is not in control: its refused request reaches nobody capable, since the controller announced nothing.
  const refused = await watcher.reply(watcher.request('request-control'));
  assert.equal(refused.error.code, 'FORBIDDEN');

  // Not the controller: hand-over is refused.
  const notMine = await watcher.reply(watcher.request('hand-over-control', { session_id: watcherJoin.welcome.data.session_id }));
  assert.equal(notMine.error.code, 'FORBIDDEN');

  // The controller (the seed-like first peer) hands over to the watcher.
  const bad = await controller.reply(controller.request('hand-over-control', { session_id: 'no-such-session' }));
  assert.equal(bad.error.code, 'INVALID_MESSAGE');
  const handed = await controller.reply(controller.request('hand-over-control', { session_id: watcherJoin.welcome.data.session_id }));
  assert.equal(handed.type, 'control');
  assert.equal(handed.data.input_enabled, false);
  assert.equal(handed.data.controller_session_id, watcherJoin.welcome.data.session_id);
  const after = await watcher.next((m) => m.type === 'participants' && m.data.controller_session_id === watcherJoin.welcome.data.session_id);
  assert.ok(after.data.participants.find((p: Json) => p.session_id === watcherJoin.welcome.data.session_id).in_control);

  // Now the old controller asks back: the new one, which announced participants, is told.
  await controller.reply(controller.request('request-control'));
  const asked = await watcher.next((m) => m.type === 'control-requested');
  assert.equal(typeof asked.data.session_id, 'string');
});

test('share links need auth; resize-screen only from the controller', async () => {
  const watcher = peers[peers.length - 1]!;
  const share = await watcher.reply(watcher.request('create-share-link'));
  assert.equal(share.error.code, 'FORBIDDEN');
  assert.equal(share.error.details, 'share-link');
  const seed = peers[0]!;
  const resize = await seed.reply(seed.request('resize-screen', { width: 400, height: 300 }));
  assert.equal(resize.error.code, 'FORBIDDEN');
  watcher.request('resize-screen', { width: 401, height: 301 });
  const screen = await peers[1]!.next((m) => m.type === 'screen' && m.data.width === 400, 10_000);
  assert.deepEqual(screen.data, { width: 400, height: 300, resizable: true });
});
