import { timingSafeEqual } from 'node:crypto';

/** Compares secrets in constant time, so a guess's timing says nothing about how much of it was right. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
