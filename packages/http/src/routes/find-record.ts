import type { ComputationRecord } from '@au/core';
import { HttpError } from '../errors/http-error';
import type { PluginState } from '../plugin-state';
import { parseTaskId } from '../query';

/** The record of a path id: 400 when the id is malformed, 404 when there is none. */
export async function findRecord(state: PluginState, rawId: string): Promise<ComputationRecord> {
  const key = parseTaskId(rawId);
  const record = await state.store.get(key);
  if (record === undefined) {
    throw new HttpError(
      404,
      'NOT_FOUND',
      `no task with id "${key}": it never existed here, or it has expired`,
    );
  }
  return record;
}
