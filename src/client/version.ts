/**
 * The SDK's version, sent in `hello`: package.json's, like the server's (src/version.ts). A browser
 * bundle cannot read files, so its bundler writes the version in as STREAMGATE_VERSION (esbuild
 * `define`, see scripts/build-web.mjs); in Node it is read from package.json.
 */
declare const STREAMGATE_VERSION: string | undefined;

/** Node: package.json from dist/src/client, without a static `node:fs` import that would break browser bundles. */
function packageVersion(): string {
  const fs = globalThis.process?.getBuiltinModule?.('node:fs');
  if (!fs) return 'unknown'; // a browser bundle built without the define
  const text = fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

export const CLIENT_VERSION: string = typeof STREAMGATE_VERSION === 'string' ? STREAMGATE_VERSION : packageVersion();
