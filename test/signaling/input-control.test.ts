import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { Observer } from '../helpers/x-observer.js';
import { waitUntil } from '../helpers/processes.js';

const PRESS_RELEASE = { capabilities: ['mouse-press-release'] };
const peers: WsPeer[] = [];
async function join(server: TestServer, hello: Record<string, unknown> = PRESS_RELEASE): Promise<{ peer: WsPeer; welcome: Record<string, any> }> {
  const peer = await WsPeer.open(server.wsUrl);
  peers.push(peer);
  return { peer, welcome: await peer.hello(hello) };
}
/**
 * Joins and waits until this peer controls input: the previous test's controller may not have been seen to
 * close yet, and control passes on only then (the server tells the peer with a `control` message).
 */
async function joinInControl(server: TestServer, hello: Record<string, unknown> = PRESS_RELEASE): ReturnType<typeof join> {
  const joined = await join(server, hello);
  if (!joined.welcome.data.session_config.input_enabled) {
    await joined.peer.next((m) => m.type === 'control' && m.data.input_enabled === true);
  }
  return joined;
}

describe('input through signaling into a virtual desktop: control, refusal, no stuck input', () => {
  let server: TestServer;
  let observer: Observer;
  before(async () => {
    server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000', '--resume-grace', '0']);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display: string };
    observer = await Observer.open(health.display);
  });
  after(async () => {
    for (const p of peers) p.close();
    await observer?.close();
    await server?.stop();
  });

  test('the first peer controls (input_enabled), a second only views: its input gets FORBIDDEN and injects nothing', async () => {
    const first = await join(server);
    const second = await join(server);
    assert.equal(first.welcome.data.session_config.input_enabled, true);
    assert.equal(second.welcome.data.session_config.input_enabled, false);
    first.peer.request('mouse-move', { x: 100, y: 100 });
    await waitUntil('pointer at 100,100', async () => {
      const p = await observer.pointer();
      return p.x === 100 && p.y === 100;
    }, 5000);
    const refused = await second.peer.reply(second.peer.request('mouse-move', { x: 300, y: 300 }));
    assert.equal(refused.error.code, 'FORBIDDEN');
    assert.match(refused.error.details, /^controller=/);
    const keyRefused = await second.peer.reply(second.peer.request('key-press', { key: 'a', key_code: 65 }));
    assert.equal(keyRefused.error.code, 'FORBIDDEN');
    await observer.settle();
    assert.deepEqual(await observer.pointer(), { x: 100, y: 100, buttons: 0 }, 'the view-only peer moved nothing');
    assert.deepEqual(await observer.keysDown(), []);
    first.peer.close();
    second.peer.close();
  });

  test('release-control and request-control hand control over, and every peer is told', async () => {
    const a = await joinInControl(server);
    const b = await join(server);
    const released = await a.peer.reply(a.peer.request('release-control'));
    assert.deepEqual(released.data, { input_enabled: false, controller_session_id: null });
    const told = await b.peer.next((m) => m.type === 'control');
    assert.equal(told.data.controller_session_id, null);
    const granted = await b.peer.reply(b.peer.request('request-control'));
    assert.equal(granted.data.input_enabled, true);
    assert.equal(granted.data.controller_session_id, b.welcome.data.session_id);
    const aTold = await a.peer.next((m) => m.type === 'control' && m.data.controller_session_id === b.welcome.data.session_id);
    assert.equal(aTold.data.input_enabled, false);
    const denied = await a.peer.reply(a.peer.request('request-control'));
    assert.equal(denied.error.code, 'FORBIDDEN');
    assert.equal((await a.peer.reply(a.peer.request('mouse-move', { x: 5, y: 5 }))).error.code, 'FORBIDDEN');
    b.peer.close();
    const passed = await a.peer.next((m) => m.type === 'control' && m.data.controller_session_id === a.welcome.data.session_id);
    assert.equal(passed.data.input_enabled, true, 'control passes on when the controller leaves');
    a.peer.close();
  });

  test('a peer that disconnects while holding keys and a button leaves nothing pressed', async () => {
    const { peer } = await joinInControl(server);
    peer.request('mouse-click', { x: 50, y: 60, button: 'left', action: 'down' });
    peer.request('key-press', { key: 'Shift', key_code: 16, code: 'ShiftLeft', action: 'down', modifiers: ['shift'] });
    peer.request('key-press', { key: 'A', key_code: 65, code: 'KeyA', action: 'down', modifiers: ['shift'] });
    await waitUntil('keys and button held', async () => (await observer.keysDown()).length >= 2 && (await observer.pointer()).buttons !== 0, 5000);
    peer.close();
    await waitUntil('everything released', async () => (await observer.keysDown()).length === 0 && (await observer.pointer()).buttons === 0, 5000);
  });

  test('a session taken over mid-press releases what the old connection held', async () => {
    const old = await joinInControl(server);
    old.peer.request('key-press', { key: 'b', key_code: 66, code: 'KeyB', action: 'down' });
    await waitUntil('key held', async () => (await observer.keysDown()).length === 1, 5000);
    const newer = await WsPeer.open(server.wsUrl);
    peers.push(newer);
    const welcome = await newer.hello({ ...PRESS_RELEASE, session_id: old.welcome.data.session_id, resume_token: old.welcome.data.resume_token });
    assert.equal(welcome.data.resumed, true);
    assert.equal(await old.peer.closed(), 4001);
    await waitUntil('key released', async () => (await observer.keysDown()).length === 0, 5000);
    newer.close();
  });

  test('without the mouse-press-release capability (the JS seed), mouse-click "down" is a whole click: no button stays held', async () => {
    const { peer } = await joinInControl(server, { capabilities: ['webrtc', 'video', 'audio', 'input-events'] });
    const before = observer.events.length;
    peer.request('mouse-click', { x: 20, y: 20, button: 'left', action: 'down', modifiers: [] });
    await waitUntil('press and release seen', async () => observer.events.slice(before).some((e) => e.type === 'button-up'), 5000);
    assert.equal((await observer.pointer()).buttons, 0);
    peer.close();
  });
});

describe('--input none and --input all', () => {
  test('with --input none nobody controls; with --input all everybody does', async () => {
    const none = await startServer(['--source', 'virtual', '--resolution', '320x240', '--app', 'sleep 100000', '--input', 'none']);
    try {
      const { peer, welcome } = await join(none);
      assert.equal(welcome.data.session_config.input_enabled, false);
      const refused = await peer.reply(peer.request('mouse-move', { x: 1, y: 1 }));
      assert.equal(refused.error.code, 'FORBIDDEN');
      peer.close();
    } finally {
      await none.stop();
    }
    const all = await startServer(['--source', 'virtual', '--resolution', '320x240', '--app', 'sleep 100000', '--input', 'all']);
    try {
      const a = await join(all);
      const b = await join(all);
      assert.equal(a.welcome.data.session_config.input_enabled, true);
      assert.equal(b.welcome.data.session_config.input_enabled, true);
      a.peer.close();
      b.peer.close();
    } finally {
      await all.stop();
    }
  });
});
