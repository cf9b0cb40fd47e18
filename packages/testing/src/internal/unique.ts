import { randomBytes } from 'node:crypto';

/** A short random tag, safe inside keys, task names and tags: isolates one test from another. */
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
