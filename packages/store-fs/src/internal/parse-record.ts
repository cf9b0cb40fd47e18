import { type ComputationRecord, isComputationStatus, isValidKey } from '@au/core';
import { CorruptRecordError } from '../errors/corrupt-record-error';

/**
 * The record stored as `text` in `file`, checked to be an au record; `expectedKey`, when
 * given, must be its key. Throws `CorruptRecordError` otherwise.
 */
export function parseRecord(text: string, file: string, expectedKey: string | undefined): ComputationRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const problem = text.length === 0 ? 'is empty' : `is not valid JSON (${(error as Error).message})`;
    throw new CorruptRecordError({ file, key: expectedKey, problem, cause: error });
  }
  const record = value as Partial<ComputationRecord> | null;
  if (
    typeof record !== 'object' ||
    record === null ||
    Array.isArray(record) ||
    !isValidKey(record.key) ||
    typeof record.task !== 'string' ||
    !isComputationStatus(record.status) ||
    typeof record.createdAt !== 'number'
  ) {
    throw new CorruptRecordError({
      file,
      key: expectedKey,
      problem: 'is JSON but not an au computation record (key, task, status, createdAt)',
    });
  }
  if (expectedKey !== undefined && record.key !== expectedKey) {
    throw new CorruptRecordError({
      file,
      key: expectedKey,
      problem: `holds the record of another key ("${record.key}")`,
    });
  }
  return record as ComputationRecord;
}
