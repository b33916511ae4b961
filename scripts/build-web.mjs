// Builds the viewer into dist/web: web/boot.ts inlined in index.html, web/main.ts (with the client SDK) bundled by
// esbuild into app.js, web/style.css into app.css, index.html with content hashes for cache busting, and the
// other static files copied. Deterministic: the same sources give byte-identical output.
// Usage: node scripts/build-web.mjs [--outdir DIR]   (default dist/web)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web');
const outArg = process.argv.indexOf('--outdir');
const out = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'dist', 'web');
const started = performance.now();
// The SDK reports package.json's version (src/client/version.ts); a browser cannot read the file.
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/main.ts', 'app-style': 'web/style.css' },
  outdir: out,
  entryNames: '[name]',
  bundle: true,
  format: 'esm',
  platform: 'browser', // a Node-only import in the browser path fails the build here
  target: ['chrome105', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  define: { STREAMGATE_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});

// The boot (web/boot.ts) is inlined in index.html: it must run while the page is parsed, before any fetch.
const boot = await build({
  absWorkingDir: root,
  entryPoints: ['web/boot.ts'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome105', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  define: { STREAMGATE_VERSION: JSON.stringify(version) },
  // version.ts reads package.json through import.meta only where the define above is missing (Node).
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
});
const bootJs = boot.outputFiles[0].text.trim();
if (/<\/script/i.test(bootJs)) throw new Error('build-web: the boot script contains "</script", which would end the inline <script>');

// esbuild names the CSS entry's output after the entry: rename to app.css.
await rename(join(out, 'app-style.css'), join(out, 'app.css'));
const cssMap = join(out, 'app-style.css.map');
await rename(cssMap, join(out, 'app.css.map')).catch(() => {});
const css = (await readFile(join(out, 'app.css'), 'utf8')).replace('app-style.css.map', 'app.css.map');
await writeFile(join(out, 'app.css'), css);

const hash = async (file) => createHash('sha256').update(await readFile(join(out, file))).digest('hex').slice(0, 12);
const html = (await readFile(join(src, 'index.html'), 'utf8'))
  .replace('%JS_HASH%', await hash('app.js'))
  .replace('%CSS_HASH%', await hash('app.css'))
  .replace('%BOOT%', () => bootJs);
await writeFile(join(out, 'index.html'), html);

for (const entry of await readdir(src, { withFileTypes: true })) {
  if (!entry.isFile() || /\.(ts|css|html)$/.test(entry.name) || entry.name === 'tsconfig.json') continue;
  await copyFile(join(src, entry.name), join(out, entry.name));
}

const bytes = Object.entries(result.metafile.outputs)
  .filter(([f]) => !f.endsWith('.map'))
  .reduce((n, [, o]) => n + o.bytes, bootJs.length);
console.log(`build-web: ${out === join(root, 'dist', 'web') ? 'dist/web' : out} (${(bytes / 1024).toFixed(1)} kB) in ${Math.round(performance.now() - started)} ms`);
