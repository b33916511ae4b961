import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServer, type TestServer } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let server: TestServer;
let dir: string;

before(async () => {
  server = await startServer();
  // Inside the package, so that `streamgate/client` resolves by the package's own name (self-reference), as for a user.
  dir = mkdtempSync(join(ROOT, 'dist', '.readme-example-'));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server?.stop();
});

/** The first ```js block under the README's SDK heading: the ten-line Node example. */
function readmeNodeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.search(/^## .*SDK/m));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the README has a js example under its SDK heading');
  return block;
}

test("the README's SDK example runs as written (only the port differs) and prints the session, the RTT and the stats", async () => {
  const example = readmeNodeExample();
  assert.ok(example.split('\n').filter(Boolean).length <= 12, 'about ten lines');
  assert.match(example, /ws:\/\/localhost:8080\/ws/);
  const file = join(dir, 'example.mjs');
  writeFileSync(file, example.replace('ws://localhost:8080/ws', server.wsUrl));
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [file], { timeout: 20_000 });
  assert.equal(stderr, '', 'no error event');
  assert.match(stdout, /^state: connecting/m);
  assert.match(stdout, /^session [0-9a-f-]{36} rtt \d+\.\d ms$/m);
  assert.match(stdout, /^server stats: \[.*'webrtc'.*\]$/m);
});
