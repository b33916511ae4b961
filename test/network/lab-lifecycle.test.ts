/**
 * The network lab leaves nothing behind: destroy() removes its namespaces, processes and temp dir, and
 * create() removes what a crashed run left (names carrying a process id that no longer runs) while a
 * live run's lab is left alone.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAlive } from '../helpers/processes.js';
import { NetLab } from '../helpers/netlab/lab.js';

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '');

test('destroy() removes the namespaces, the processes and the temp dir', { timeout: 60_000 }, async () => {
  const lab = await NetLab.create();
  try {
    const sleeper = lab.spawn('browser', 'sleep', ['600']);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    assert.ok(Object.values(lab.namespaces).every((ns) => namespaces().includes(ns)), 'namespaces made');
    await lab.destroy();
    assert.ok(!isAlive(sleeper.pid!), 'a process started in the lab outlived it');
    assert.deepEqual(Object.values(lab.namespaces).filter((ns) => namespaces().includes(ns)), [], 'namespaces left');
    assert.ok(!existsSync(lab.dir), 'temp dir left');
  } finally {
    await lab.destroy();
  }
});

test('create() removes a crashed run’s leftovers and keeps a live lab', { timeout: 60_000 }, async () => {
  // A process id that ran and ended: what a crashed test process leaves in the names.
  const dead = spawnSync('true').pid;
  assert.ok(dead && !isAlive(dead));
  const stale = `sgnl-${dead}-dead-rtr`;
  const staleDir = join(tmpdir(), `sgnl-${dead}-dead-x`);
  execFileSync('ip', ['netns', 'add', stale]);
  mkdirSync(staleDir);
  const live = await NetLab.create();
  let second: NetLab | undefined;
  try {
    second = await NetLab.create();
    assert.ok(!namespaces().includes(stale), `${stale} survived`);
    assert.ok(!existsSync(staleDir), `${staleDir} survived`);
    assert.ok(Object.values(live.namespaces).every((ns) => namespaces().includes(ns)), 'a live lab was removed');
  } finally {
    await second?.destroy();
    await live.destroy();
    spawnSync('ip', ['netns', 'del', stale], { stdio: 'ignore' });
  }
});
