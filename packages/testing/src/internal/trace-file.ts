import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueId } from './unique';

/** A file under `os.tmpdir()` that `traceTask` appends one line to per run. */
export interface TraceFile {
  readonly path: string;
  /** Runs traced so far (lines in the file). */
  runs(): number;
  remove(): void;
}

export function traceFile(): TraceFile {
  const path = join(tmpdir(), `${uniqueId('au-trace')}.log`);
  return {
    path,
    runs() {
      try {
        return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    remove() {
      rmSync(path, { force: true });
    },
  };
}
