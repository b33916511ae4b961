import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ConfigError, StreamgateClient, resolveOptions, type WebSocketConstructor, type WebSocketLike } from '../../src/client/index.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('valid options get defaults filled in', () => {
  const o = resolveOptions({ url: 'ws://127.0.0.1:8080/ws', WebSocket });
  assert.equal(o.autoReconnect, true);
  assert.equal(o.maxRetries, Infinity);
  assert.equal(o.maxQueueSize, 100);
  assert.deepEqual(o.constraints, { video: true, audio: true });
  assert.deepEqual(o.codecPreferences, ['H264', 'VP8', 'VP9']);
  assert.equal(typeof o.peerId, 'number', 'the default peer id is a number, as the seed');
});

test('peer id may be a string or a number and is kept as given', () => {
  assert.equal(resolveOptions({ url: 'ws://h/ws', WebSocket, peerId: 'bot-1' }).peerId, 'bot-1');
  assert.equal(resolveOptions({ url: 'ws://h/ws', WebSocket, peerId: 42 }).peerId, 42);
});

test('a non-WebSocket URL is refused with a message naming the option', () => {
  const e = errorOf(() => resolveOptions({ url: 'http://localhost:8080/ws', WebSocket }));
  assert.match(e.message, /url: must be a ws:\/\/ or wss:\/\/ URL/);
  assert.match(errorOf(() => resolveOptions({ url: 'not a url', WebSocket })).message, /url:/);
});

test('every problem is listed, each naming its option and the value it got', () => {
  const e = errorOf(() =>
    resolveOptions({
      url: 'ws://h/ws',
      WebSocket,
      maxQueueSize: -1,
      maxRetries: 1.5,
      requestTimeoutMs: 'soon' as unknown as number,
      backoff: { jitter: 2 },
    }),
  );
  assert.equal(e.issues.length, 4, e.message);
  assert.match(e.message, /maxQueueSize: must be ≥ 0 \(got number -1\)/);
  assert.match(e.message, /maxRetries: must be an integer ≥ 0, or Infinity/);
  assert.match(e.message, /requestTimeoutMs: expected number, got string "soon"/);
  assert.match(e.message, /backoff\.jitter: must be ≤ 1/);
});

test('a misspelt option is reported as unknown rather than ignored', () => {
  const e = errorOf(() => resolveOptions({ url: 'ws://h/ws', WebSocket, autoReconect: false } as never));
  assert.match(e.message, /unknown option "autoReconect"/);
});

test('backoff max below base is refused', () => {
  const e = errorOf(() => resolveOptions({ url: 'ws://h/ws', WebSocket, backoff: { baseDelayMs: 1000, maxDelayMs: 10 } }));
  assert.match(e.message, /backoff\.maxDelayMs: must be ≥ baseDelayMs/);
});

test('without a global WebSocket (Node 20) the error says to pass one', () => {
  const had = (globalThis as { WebSocket?: unknown }).WebSocket;
  delete (globalThis as { WebSocket?: unknown }).WebSocket;
  try {
    const e = errorOf(() => new StreamgateClient({ url: 'ws://h/ws' }));
    assert.match(e.message, /WebSocket: .*pass one/);
  } finally {
    if (had) (globalThis as { WebSocket?: unknown }).WebSocket = had;
  }
});

test('maxRetries accepts Infinity and 0', () => {
  assert.equal(resolveOptions({ url: 'ws://h/ws', WebSocket, maxRetries: Infinity }).maxRetries, Infinity);
  assert.equal(resolveOptions({ url: 'ws://h/ws', WebSocket, maxRetries: 0 }).maxRetries, 0);
});

test('WebSocketLike is typed without any: the WebSocket of `ws` and the browser\'s both fit, a socket with other events does not', () => {
  // Checked by the compiler when this file is built; at run time only the values are left.
  type Fits<T> = T extends WebSocketConstructor ? true : false;
  const wsFits: Fits<typeof WebSocket> = true;
  const browserFits: Fits<typeof globalThis.WebSocket> = true;
  const foreign = {
    readyState: 0,
    send: (_data: string) => undefined,
    close: () => undefined,
    onopen: null,
    onmessage: (_event: { payload: string }) => undefined,
    onclose: null,
    onerror: null,
  };
  // @ts-expect-error: its messages have no `data`
  const notASocket: WebSocketLike = foreign;
  assert.ok(wsFits && browserFits && notASocket.readyState === 0);
});
