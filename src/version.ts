import { readFileSync } from 'node:fs';

/** The package version, read once from package.json so it never drifts from the release. */
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
