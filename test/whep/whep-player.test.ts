/**
 * WHEP (docs/protocol.md, "WHEP") against a player nobody here wrote: @eyevinn/webrtc-player, bundled by
 * esbuild into a page on the server's origin, in real Chromium, against the real server with auth on.
 * Its WHEP adapter posts the offer; the test reads what Chromium decoded and what the server counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'whep-test-secret-of-32-characters';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const WIDTH = 640;
const HEIGHT = 360;

let server: TestServer;
let browser: Browser | undefined;

before(async () => {
  server = await startServer(['--resolution', `${WIDTH}x${HEIGHT}`, '--auth-token', TOKEN]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function playerBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: "import { WebRTCPlayer } from '@eyevinn/webrtc-player'; (window as unknown as Record<string, unknown>).WebRTCPlayer = WebRTCPlayer;",
      // The repository root (this file runs from dist/test/whep), where node_modules is.
      resolveDir: fileURLToPath(new URL('../../../', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

async function whepViewers(): Promise<{ health: number; metric: number }> {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { whep_viewers: number };
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: AUTH })).text();
  const line = /^streamgate_whep_viewers (\d+)$/m.exec(metrics);
  assert.ok(line, 'streamgate_whep_viewers is on /metrics');
  return { health: health.whep_viewers, metric: Number(line[1]) };
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Playing {
  width: number;
  height: number;
  audioTracks: number;
  time: number;
}

/** A page on the server's origin whose Eyevinn player has loaded /whep; resolves once its video plays. */
async function playerPage(): Promise<{ page: Page; playing: Playing }> {
  browser ??= await launchChromium();
  const page: Page = await browser.newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page] ${err.message}\n`));
  await page.goto(`${server.url}/healthz`);
  await page.setContent('<!doctype html><html><body><video id="v" autoplay muted playsinline></video></body></html>');
  await page.addScriptTag({ content: await playerBundle() });
  await page.evaluate(
    async ({ url, auth }) => {
      const w = window as unknown as { WebRTCPlayer: new (options: object) => { load(url: URL, key?: string): Promise<void> }; player: unknown };
      const player = new w.WebRTCPlayer({ video: document.getElementById('v'), type: 'whep', iceServers: [] });
      w.player = player;
      await player.load(new URL(url), auth);
    },
    { url: `${server.url}/whep`, auth: AUTH.authorization },
  );
  const playing = await until(
    'the video element decodes the stream',
    () => page.evaluate(() => {
      const video = document.getElementById('v') as HTMLVideoElement;
      const stream = video.srcObject as MediaStream | null;
      return { width: video.videoWidth, height: video.videoHeight, audioTracks: stream?.getAudioTracks().length ?? 0, time: video.currentTime };
    }),
    (v) => v.width > 0 && v.time > 0.5,
  );
  return { page, playing };
}

test('two Eyevinn WHEP players play the stream at the source size with audio from one encoder, and their DELETEs free the viewers', async () => {
  const players = [await playerPage(), await playerPage()];
  for (const { playing } of players) {
    assert.deepEqual({ width: playing.width, height: playing.height }, { width: WIDTH, height: HEIGHT }, 'decoded at the source size');
    assert.equal(playing.audioTracks, 1, 'the player got an audio track');
  }
  assert.deepEqual(await whepViewers(), { health: 2, metric: 2 });
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: AUTH })).text();
  const videoEncoders = metrics.split('\n').filter((line) => line.startsWith('streamgate_media_pipeline_running{') && !/codec="(opus|none|)"/i.test(line));
  assert.equal(videoEncoders.length, 1, `one video encoder for both viewers:\n${videoEncoders.join('\n')}`);

  for (const { page } of players) {
    await page.evaluate(async () => {
      await (window as unknown as { player: { unload(): Promise<void> } }).player.unload();
    });
    await page.close();
  }
  await until('the server frees the viewers', whepViewers, (v) => v.health === 0 && v.metric === 0, 10_000);
});

async function postOffer(sdp: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body: sdp });
}

/** A minimal receive-only offer, as a WHEP client makes one (its candidates trickled later). */
const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=recvonly', 'a=rtcp-mux',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=setup:actpass',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
  'a=rtpmap:96 VP8/90000',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=recvonly', 'a=rtcp-mux',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=setup:actpass',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
  'a=rtpmap:111 opus/48000/2', '',
].join('\r\n');

test('a POST without credentials is refused with 401, naming the problem', async () => {
  const response = await postOffer(OFFER, {});
  assert.equal(response.status, 401);
  assert.match(await response.text(), /credentials/i);
});

test('a body that is not SDP is 400, a wrong content type 415, an unknown resource 404', async () => {
  const bad = await postOffer('hello', AUTH);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /not SDP/);
  const wrongType = await fetch(`${server.url}/whep`, { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: OFFER });
  assert.equal(wrongType.status, 415);
  assert.match(await wrongType.text(), /application\/sdp/);
  const unknown = await fetch(`${server.url}/whep/resource/nope`, { method: 'DELETE', headers: AUTH });
  assert.equal(unknown.status, 404);
  await unknown.text();
});

test('OPTIONS says what is allowed; a created session takes trickled candidates (204), refuses an ICE restart (422), ends on DELETE', async () => {
  const options = await fetch(`${server.url}/whep`, { method: 'OPTIONS' });
  assert.equal(options.status, 204);
  assert.match(options.headers.get('allow') ?? '', /POST/);

  const created = await postOffer(OFFER, AUTH);
  assert.equal(created.status, 201, await created.clone().text());
  assert.equal(created.headers.get('content-type'), 'application/sdp');
  const location = created.headers.get('location');
  const etag = created.headers.get('etag');
  assert.match(location ?? '', /^\/whep\/resource\/[\w-]+$/);
  assert.ok(etag);
  assert.match(await created.text(), /^v=0/);
  const resource = `${server.url}${location}`;

  const patch = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(resource, { method: 'PATCH', headers: { ...AUTH, 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag, ...headers }, body });
  const trickle = await patch(['a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'm=audio 9 RTP/AVP 0', 'a=mid:0', 'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', 'a=end-of-candidates', ''].join('\r\n'));
  assert.equal(trickle.status, 204, await trickle.clone().text());
  const restart = await patch(['a=ice-ufrag:efgh', 'a=ice-pwd:anotherpasswordof24chars', 'm=audio 9 RTP/AVP 0', 'a=mid:0', ''].join('\r\n'));
  assert.equal(restart.status, 422);
  assert.match(await restart.text(), /ICE restart/);
  const stale = await patch('a=end-of-candidates\r\n', { 'if-match': '"stale"' });
  assert.equal(stale.status, 412);
  await stale.text();

  assert.equal((await whepViewers()).health, 1);
  const deleted = await fetch(resource, { method: 'DELETE', headers: AUTH });
  assert.equal(deleted.status, 200);
  await deleted.text();
  assert.deepEqual(await whepViewers(), { health: 0, metric: 0 });
  const again = await fetch(resource, { method: 'DELETE', headers: AUTH });
  assert.equal(again.status, 404);
  await again.text();
});

test('the server shuts down cleanly with a WHEP viewer playing (it runs last: it stops the server)', async () => {
  await playerPage();
  assert.equal((await whepViewers()).health, 1);
  const started = Date.now();
  assert.equal(await server.stop(), 0, `exit code of a graceful shutdown; stderr tail:\n${server.stderr().slice(-2000)}`);
  assert.ok(Date.now() - started < 15_000, 'the shutdown did not wait for the viewer');
});
