import { AuError } from '@au/core';

/**
 * A file where a record should be is not one: it is not JSON, or it is JSON that is not
 * an au record for that key (a foreign file). Only that key is affected; the store keeps
 * working for every other key, and `list` skips the file and reports it via `onCorrupt`.
 */
export class CorruptRecordError extends AuError {
  /** The key the file stands for, when it can be told from the file name. */
  readonly key: string | undefined;
  /** Absolute path of the offending file. */
  readonly file: string;

  constructor({
    file,
    key,
    problem,
    cause,
  }: {
    file: string;
    key: string | undefined;
    problem: string;
    cause?: unknown;
  }) {
    const forKey = key === undefined ? '' : ` for key "${key}"`;
    const remedy =
      key === undefined
        ? 'move the file out of the store directory or delete it'
        : `delete it (store.delete("${key}") or rm the file) or restore it from a backup`;
    super('AU_CORRUPT_RECORD', {
      message: `[au] [store-fs] record file "${file}"${forKey} ${problem}: ${remedy}; other keys are unaffected`,
      cause,
    });
    this.name = 'CorruptRecordError';
    this.key = key;
    this.file = file;
  }

  static override isInstance(error: unknown): error is CorruptRecordError {
    return AuError.isInstance(error) && error.name === 'CorruptRecordError';
  }
}
