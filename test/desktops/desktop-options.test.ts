import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

test('--desktop NAME[:APP] repeats; STREAMGATE_DESKTOP is a comma-separated list; the config file takes a list', () => {
  const cli = loadConfig(['--desktop', 'alice', '--desktop', 'bob:xterm -bg blue'], {});
  assert.deepEqual(cli.desktops, [{ name: 'alice' }, { name: 'bob', app: 'xterm -bg blue' }]);
  // Commander reads the flags' variables from process.env itself.
  process.env.STREAMGATE_DESKTOP = 'a,b:sleep 9';
  try {
    assert.deepEqual(loadConfig([], {}).desktops, [{ name: 'a' }, { name: 'b', app: 'sleep 9' }]);
  } finally {
    delete process.env.STREAMGATE_DESKTOP;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sg-desktops-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ desktops: ['carol', { name: 'dave', app: 'xeyes' }], redis: 'redis://10.0.0.9:6379', nodeId: 'host-1' }));
    const fromFile = loadConfig(['--config', file], {});
    assert.deepEqual(fromFile.desktops, [{ name: 'carol' }, { name: 'dave', app: 'xeyes' }]);
    assert.equal(fromFile.redis, 'redis://10.0.0.9:6379');
    assert.equal(fromFile.clusterTtl, 15_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(loadConfig([], {}).desktops, []);
});

test('bad desktop settings fail naming the flag', () => {
  assert.throws(() => loadConfig(['--desktop', 'Bad Name'], {}), (err: Error) => err instanceof ConfigError && /--desktop \(from command line\)/.test(err.message));
  assert.throws(() => loadConfig(['--desktop', 'a', '--desktop', 'a'], {}), /each desktop name may be given once/);
  assert.throws(() => loadConfig(['--source', 'x11', '--display', ':5', '--desktop', 'a'], {}), /named desktops need --source virtual/);
  assert.throws(() => loadConfig(['--redis', 'http://x'], {}), /--redis/);
});
