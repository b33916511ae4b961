/** --turn-secret, --turn-ttl, --public-ip and --udp-ports: what is accepted, and one clear line for what is not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const refused = (args: string[], pattern: RegExp): void => {
  assert.throws(() => loadConfig(args, {}), (err: unknown) => err instanceof ConfigError && pattern.test(err.message) && !err.message.includes('\n'));
};

test('--udp-ports takes MIN-MAX from 1024 to 65535 with MIN below MAX', () => {
  assert.deepEqual(loadConfig(['--udp-ports', '40000-40199'], {}).udpPorts, [40000, 40199]);
  assert.deepEqual(loadConfig(['--udp-ports', '50000 - 50001'], {}).udpPorts, [50000, 50001]);
  assert.equal(loadConfig([], {}).udpPorts, undefined, 'any free port by default');
  refused(['--udp-ports', '40199-40000'], /^--udp-ports \(from command line\): MIN must be below MAX/);
  refused(['--udp-ports', '40000-40000'], /^--udp-ports \(from command line\): MIN must be below MAX/);
  refused(['--udp-ports', '80-2000'], /^--udp-ports \(from command line\): ports must be from 1024 to 65535/);
  refused(['--udp-ports', '60000-70000'], /^--udp-ports \(from command line\): ports must be from 1024 to 65535/);
  refused(['--udp-ports', '40000'], /^--udp-ports \(from command line\): expected MIN-MAX, e\.g\. 40000-40199, got "40000"/);
  refused(['--udp-ports', '1:2'], /^--udp-ports \(from command line\): expected MIN-MAX/);
});

test('--public-ip takes one IPv4 or IPv6 address', () => {
  assert.equal(loadConfig(['--public-ip', '203.0.113.7'], {}).publicIp, '203.0.113.7');
  assert.equal(loadConfig(['--public-ip', '2001:db8::7'], {}).publicIp, '2001:db8::7');
  refused(['--public-ip', 'example.com'], /^--public-ip \(from command line\): expected an IP address/);
  refused(['--public-ip', '203.0.113.300'], /^--public-ip \(from command line\): expected an IP address/);
});

test('--turn-secret needs a turn: URL without its own username in --ice-servers, and never echoes the secret', () => {
  const secret = 'a-coturn-static-auth-secret';
  const config = loadConfig(['--turn-secret', secret, '--ice-servers', 'stun:stun.example.com:3478,turn:turn.example.com:3478'], {});
  assert.deepEqual(config.turnRest, { secret, ttlMs: 86_400_000 });
  assert.equal(loadConfig(['--turn-secret', secret, '--turn-ttl', '600000', '--ice-servers', 'turn:t:3478'], {}).turnRest?.ttlMs, 600_000);
  assert.equal(loadConfig([], {}).turnRest, undefined);
  refused(['--turn-secret', secret], /^--turn-secret \(from command line\): mints credentials for the turn: URLs of --ice-servers/);
  refused(['--turn-secret', secret, '--ice-servers', JSON.stringify([{ urls: 'turn:t:3478', username: 'u', credential: 'p' }])], /^--turn-secret .*name one/);
  refused(['--turn-secret', 'short', '--ice-servers', 'turn:t:3478'], /^--turn-secret \(from command line\): use at least 16 characters; see|^--turn-secret \(from command line\): use at least 16 characters$/);
  assert.throws(() => loadConfig(['--turn-secret', 'short-secret-!!', '--ice-servers', 'turn:t:3478'], {}), (err: unknown) => err instanceof ConfigError && !err.message.includes('short-secret-!!'));
  refused(['--turn-ttl', '3600', '--turn-secret', secret, '--ice-servers', 'turn:t:3478'], /^--turn-ttl \(from command line\): expected a whole number from 60000 to 604800000/);
});
