import type { ComputationStore, CountQuery } from './contracts/store';
import { MAX_LIST_LIMIT } from './list-query';

/**
 * How many live records of `store` match `query`: the store's own `count` where it has
 * one, else a walk through every page of `list` (as many round trips as pages).
 */
export async function countComputations(store: ComputationStore, query: CountQuery = {}): Promise<number> {
  if (store.count !== undefined) return store.count(query);
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list({
      ...query,
      limit: MAX_LIST_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    total += page.records.length;
    cursor = page.cursor;
  } while (cursor !== undefined);
  return total;
}
