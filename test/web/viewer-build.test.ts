/**
 * The viewer's build: web/ type-checks (the root tsconfig does not include it), the esbuild bundle
 * is deterministic, and the browser path pulls in nothing Node-only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/test/web
const dirs: string[] = [];

after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function buildInto(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'streamgate-web-'));
  dirs.push(dir);
  await run(process.execPath, ['scripts/build-web.mjs', '--outdir', dir], { cwd: ROOT });
  return dir;
}

test('web/ type-checks with the project settings (strict)', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '-p', 'web/tsconfig.json'], { cwd: ROOT }).catch((e: { stdout?: string }) => e);
  assert.equal('code' in result ? result.code : 0, 0, `tsc reported:\n${'stdout' in result ? result.stdout : ''}`);
});

test('two builds of the same sources are byte-identical, and index.html names the bundles by content hash', async () => {
  const [a, b] = [await buildInto(), await buildInto()];
  const files = (await readdir(a)).sort();
  assert.deepEqual(files, (await readdir(b)).sort());
  for (const f of ['index.html', 'app.js', 'app.css', 'favicon.svg']) assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
  for (const f of files) assert.ok((await readFile(join(a, f))).equals(await readFile(join(b, f))), `${f} differs between builds`);
  const html = await readFile(join(a, 'index.html'), 'utf8');
  assert.match(html, /app\.js\?v=[0-9a-f]{12}/);
  assert.match(html, /app\.css\?v=[0-9a-f]{12}/);
  assert.doesNotMatch(html, /%[A-Z_]+%/, 'every placeholder is filled');
});

test('the browser bundle has no Node-only imports and stays small', async () => {
  const dir = await buildInto();
  const js = await readFile(join(dir, 'app.js'), 'utf8');
  // Everything is bundled: an import left in the output would be an unresolved external (a Node module).
  const leftover = /(?:^|[;\n])import[\s{*"']/.exec(js);
  assert.equal(leftover, null, `an import statement is left in app.js at ${leftover?.index}`);
  assert.equal(/\brequire\(/.test(js), false, 'app.js calls require()');
  assert.ok(js.length < 150_000, `app.js is ${js.length} bytes`);
});
