import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared/seed beside the repository: the user's own document with the three real clients. */
export const SEED_DIR = fileURLToPath(new URL('../../../../shared/seed/', import.meta.url));

/** The code of the n-th fenced block in `language` from the seed document, exactly as the user wrote it. */
export function seedCode(language: 'javascript' | 'python' | 'go', index = 0): string {
  const file = readdirSync(SEED_DIR).find((f) => f.endsWith('.txt'));
  if (!file) throw new Error(`no seed document in ${SEED_DIR}`);
  const text = readFileSync(join(SEED_DIR, file), 'utf8');
  const blocks = [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]!);
  const block = blocks[index];
  if (block === undefined) throw new Error(`the seed has no ${language} block #${index}`);
  return block;
}
