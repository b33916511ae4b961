import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SETUP = fileURLToPath(new URL('../../../scripts/setup.sh', import.meta.url));

/** `setup.sh MODE --check`: lists what is missing, installs nothing. */
function check(mode: string, assumeMissing: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, STREAMGATE_SETUP_ASSUME_MISSING: assumeMissing };
    execFile('bash', [SETUP, mode, '--check'], { env, timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr });
    });
  });
}

test('setup.sh run needs what running needs; test (and bench) add the test tools', async () => {
  const run = await check('run', 'xvfb redis-server');
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /missing for 'run': .*\bxvfb\b/);
  assert.doesNotMatch(run.stderr, /redis-server/, 'running needs no Redis');
  assert.match(run.stderr, /would run: apt-get update && apt-get install -y --no-install-recommends .*xvfb/);
  for (const mode of ['test', 'bench']) {
    const result = await check(mode, 'xvfb redis-server');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`missing for '${mode}': .*\\bxvfb\\b.*\\bredis-server\\b`));
  }
});

test('setup.sh refuses a mode it does not know, saying which it knows', async () => {
  const { code, stderr } = await check('deploy', '');
  assert.equal(code, 2);
  assert.match(stderr, /expected run, test or bench/);
});
