import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

test('--source x11 streams the sound of $PULSE_SERVER unless --audio-server names another; other sources ignore it', () => {
  const env = { DISPLAY: ':5', PULSE_SERVER: 'unix:/run/user/1000/pulse/native' };
  assert.equal(loadConfig(['--source', 'x11'], env).audioServer, 'unix:/run/user/1000/pulse/native');
  assert.equal(loadConfig(['--source', 'x11', '--audio-server', 'tcp:127.0.0.1:4713'], env).audioServer, 'tcp:127.0.0.1:4713');
  assert.equal(loadConfig(['--source', 'x11'], { DISPLAY: ':5' }).audioServer, undefined, 'silence without either');
  assert.equal(loadConfig(['--source', 'virtual'], env).audioServer, undefined, 'the virtual desktop has its own server');
});

test('a PulseAudio server that is not a socket path or tcp address is refused, naming the flag', () => {
  assert.throws(
    () => loadConfig(['--source', 'x11', '--display', ':5', '--audio-server', 'unix:/tmp/a b ! fakesink']),
    (err: unknown) => err instanceof ConfigError && /--audio-server \(from command line\).*PulseAudio server/s.test(err.message),
  );
});
