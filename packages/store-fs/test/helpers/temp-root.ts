import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh empty directory under the OS temp directory, removed by `removeTempRoots`. */
export function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'au-store-fs-test-'));
  made.push(root);
  return root;
}

export function removeTempRoots(): void {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
}
