import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isLoopback, secureByDefault } from '../../src/config/exposure.js';
import { loadConfig } from '../../src/config/load.js';
import { pulseAudioInstalled } from '../../src/desktop/pulse-audio-server.js';
import { CloseCode } from '../../src/protocol/errors.js';
import { descendants, waitUntil } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { TestNamespace, type NamespacedServer } from './netns.js';

const TOKEN_URL = /http:\/\/198\.18\.0\.1:(\d+)\/\?token=([\w-]+)/;

test('loopback is 127.0.0.0/8, ::1 and localhost; every other address (wildcards included) is exposed', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost']) assert.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '198.18.0.1', '10.0.0.1', 'fd00::2', 'example.org']) assert.ok(!isLoopback(host), host);
});

test('an exposed bind without auth gets a generated token; configured auth, loopback and --insecure-no-auth do not', () => {
  const exposed = secureByDefault(loadConfig(['--host', '0.0.0.0']));
  assert.equal(exposed.exposure.kind, 'generated-token');
  assert.ok(exposed.config.authToken && exposed.config.authToken.length >= 32);
  assert.notEqual(secureByDefault(loadConfig(['--host', '0.0.0.0'])).config.authToken, exposed.config.authToken, 'a fresh token each start');
  assert.equal(secureByDefault(loadConfig(['--host', '0.0.0.0', '--auth-token', 'x'.repeat(16)])).exposure.kind, 'authenticated');
  assert.equal(secureByDefault(loadConfig([])).exposure.kind, 'loopback');
  assert.equal(secureByDefault(loadConfig(['--host', '0.0.0.0', '--insecure-no-auth'])).exposure.kind, 'insecure-no-auth');
  assert.equal(loadConfig(['--host', '0.0.0.0', '--insecure-no-auth', 'false']).insecureNoAuth, false);
  assert.throws(() => loadConfig(['--insecure-no-auth', '--auth-token', 'x'.repeat(16)]), /--insecure-no-auth/);
});

describe('a server bound beyond loopback (in a private network namespace)', () => {
  let ns: TestNamespace;
  let server: NamespacedServer | undefined;
  before(() => {
    ns = TestNamespace.create();
  });
  after(async () => {
    await server?.stop();
    ns?.remove();
  });

  test('without auth: prints the viewer URL carrying a generated token; /ws refuses a client without it (UNAUTHORIZED) and welcomes one with it', async () => {
    server = await ns.startServer([]);
    const match = TOKEN_URL.exec(server.stdout);
    assert.ok(match, `stdout shows the URL with its token:\n${server.stdout}`);
    assert.equal(Number(match[1]), server.port);
    const token = match[2]!;
    assert.ok(!server.stderr.includes(token), 'the token stays out of the JSON log');
    const ws = `ws://${ns.address}:${server.port}/ws`;
    assert.deepEqual(ns.probe(ws), { type: 'error', code: 'UNAUTHORIZED', closeCode: CloseCode.POLICY });
    assert.deepEqual(ns.probe(`${ws}?token=wrong`), { type: 'error', code: 'UNAUTHORIZED', closeCode: CloseCode.POLICY });
    assert.equal(ns.probe(`${ws}?token=${token}`).type, 'welcome');
    await server.stop();
    server = undefined;
  });

  test('--insecure-no-auth: today\'s open server, with a loud warning on stdout and in the log', async () => {
    server = await ns.startServer(['--insecure-no-auth'], '0.0.0.0');
    assert.match(server.stdout, /WARNING: --insecure-no-auth: .* WITHOUT AUTHENTICATION on 0\.0\.0\.0/);
    assert.doesNotMatch(server.stdout, /token=/);
    assert.ok(server.logs.some((e) => e.level === 40 && /without authentication/.test(String(e.msg))), 'a warn-level log line');
    assert.equal(ns.probe(`ws://${ns.address}:${server.port}/ws`).type, 'welcome');
    await server.stop();
    server = undefined;
  });
});

/** Real, effective, saved and filesystem uid of a process. */
function uids(pid: number): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
  return line!.split(/\s+/).slice(1).map(Number);
}

describe('the virtual desktop\'s app when the server runs as root', { skip: process.getuid?.() !== 0 && 'the server is not root here' }, () => {
  let server: TestServer;
  after(async () => {
    await server?.stop();
  });

  test('runs as an unprivileged user (nobody by default), and so does its PulseAudio server', async () => {
    server = await startServer(['--source', 'virtual', '--resolution', '320x240', '--app', 'exec sleep 100000']);
    let app: { pid: number } | undefined;
    await waitUntil('the app runs', () => Boolean((app = descendants(server.process.pid!).find((p) => p.command === 'sleep 100000'))), 10_000);
    if (!app) throw new Error('unreachable: waitUntil saw the app');
    assert.deepEqual(uids(app.pid), [65534, 65534, 65534, 65534], `the app ${app.pid} runs as nobody`);
    assert.deepEqual(uids(server.process.pid!), [0, 0, 0, 0], 'the server itself is root');
    if (!pulseAudioInstalled()) return;
    const pulse = descendants(server.process.pid!).find((p) => p.command.startsWith('pulseaudio'));
    assert.ok(pulse, 'the desktop has its PulseAudio server');
    assert.deepEqual(uids(pulse.pid), [65534, 65534, 65534, 65534], 'PulseAudio runs as the same user');
  });
});
