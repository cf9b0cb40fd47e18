/** What a bulk action did: how many succeeded, and the first errors. */
export interface BulkOutcome {
  done: number;
  failed: { id: string; message: string }[];
}

/**
 * Runs `action` on every id, four at a time (the browser allows six connections to a
 * server and live streams hold some), and collects the failures instead of stopping.
 */
export async function runBulk(ids: string[], action: (id: string) => Promise<unknown>): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { done: 0, failed: [] };
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await action(id);
        outcome.done += 1;
      } catch (error) {
        outcome.failed.push({ id, message: (error as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker));
  return outcome;
}

/** `Deleted 3.` or `Deleted 2; 1 failed: …`. */
export function describeBulk(verb: string, outcome: BulkOutcome): string {
  if (outcome.failed.length === 0) return `${verb} ${outcome.done}.`;
  const first = outcome.failed[0]!;
  return `${verb} ${outcome.done}; ${outcome.failed.length} failed (${first.id}: ${first.message}).`;
}
