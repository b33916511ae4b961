/**
 * The viewer's build: web/ type-checks (the root tsconfig does not include it), the esbuild bundle
 * is deterministic, the browser path pulls in nothing Node-only, and the bundled SDK reports
 * package.json's version.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { launchChromium } from '../helpers/chromium.js';

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

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json' };

test("the bundled SDK says hello with package.json's version (a browser cannot read the file: the build writes it in)", async () => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const dir = await buildInto();
  const browser = await launchChromium();
  let noHello: ReturnType<typeof setTimeout> | undefined;
  try {
    const page = await browser.newPage();
    // The built files on a made-up origin, and a stand-in server at its /ws that only listens for hello.
    await page.route('http://viewer.test/**', async (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = path === '/' ? 'index.html' : path.slice(1);
      const body = await readFile(join(dir, file)).catch(() => null);
      if (!body) return route.abort();
      return route.fulfill({ body, contentType: CONTENT_TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
    });
    let helloSeen: (clientInfo: Record<string, unknown>) => void = () => {};
    const hello = new Promise<Record<string, unknown>>((resolve, reject) => {
      helloSeen = resolve;
      noHello = setTimeout(() => reject(new Error('the viewer sent no hello within 20 s')), 20_000);
    });
    await page.routeWebSocket('ws://viewer.test/ws', (ws) => {
      ws.onMessage((frame) => {
        const m = JSON.parse(String(frame)) as { type: string; data: Record<string, unknown> };
        if (m.type === 'hello') helloSeen(m.data.client_info as Record<string, unknown>);
      });
    });
    await page.goto('http://viewer.test/');
    const info = await hello;
    assert.deepEqual({ sdk: info.sdk, sdk_version: info.sdk_version, app: info.app }, { sdk: 'streamgate-client', sdk_version: version, app: 'streamgate-viewer' });
  } finally {
    clearTimeout(noHello);
    await browser.close();
  }
});
