import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared/seed beside the repository: the user's own document with the three real clients. */
export const SEED_DIR = fileURLToPath(new URL('../../../../shared/seed/', import.meta.url));

const SEED_FILE = existsSync(SEED_DIR) ? readdirSync(SEED_DIR).find((f) => f.endsWith('.txt')) : undefined;

/**
 * Why the seed clients cannot run here (a clone has no ../shared/seed), for a test's `skip`;
 * undefined when the seed document is present.
 */
export const SEED_MISSING: string | undefined = SEED_FILE
  ? undefined
  : `../shared/seed not found beside the repo (no .txt document in ${SEED_DIR}): the seed clients are the user's document, not part of the repo`;

/** The code of the n-th fenced block in `language` from the seed document, exactly as the user wrote it. */
export function seedCode(language: 'javascript' | 'python' | 'go', index = 0): string {
  if (!SEED_FILE) throw new Error(SEED_MISSING);
  const text = readFileSync(join(SEED_DIR, SEED_FILE), 'utf8');
  const blocks = [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]!);
  const block = blocks[index];
  if (block === undefined) throw new Error(`the seed has no ${language} block #${index}`);
  return block;
}

/**
 * A page holding the seed's browser client exactly as the user wrote it, usage example included: it connects to
 * ws://localhost:8080/ws by itself, asks for an offer after a second and plays into #remoteVideo.
 */
export function seedBrowserPage(): string {
  return `<!doctype html><meta charset="utf-8"><title>seed client</title>
<body style="margin:0;background:#000"><video id="remoteVideo" autoplay playsinline muted style="width:1280px;height:720px"></video>
<script>\n${seedCode('javascript', 0)}\n</script></body>`;
}
