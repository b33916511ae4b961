import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/lib). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Scratch output (git-ignored): raw results, profiles, painter logs. */
export const OUT = `${ROOT}bench/out`;
