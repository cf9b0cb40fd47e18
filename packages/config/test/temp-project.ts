import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary project directory with files in it; `remove()` in `afterEach`. */
export interface TempProject {
  dir: string;
  write(name: string, content: string): string;
  remove(): void;
}

export function tempProject(): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'au-config-'));
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
