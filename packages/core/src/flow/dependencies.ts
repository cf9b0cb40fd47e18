import { type Clock, keepProcessAlive, sleep, systemClock } from '../clock';
import type { ComputationStore } from '../contracts/store';
import { CancelledError } from '../errors/cancelled-error';
import { ComputationNotFoundError } from '../errors/computation-not-found-error';
import { DependencyFailedError } from '../errors/dependency-failed-error';
import { UnknownDependencyError } from '../errors/unknown-dependency-error';
import { assertValidKey } from '../keys';
import { failComputation } from '../lifecycle/fail-computation';
import { recordCancelled } from '../lifecycle/record-cancelled';
import { silentLogger } from '../logger';
import type { ComputationRecord } from '../record';
import type { TaskLogger } from '../task';
import { followRecord } from '../wait-for-record';

/*
 * Dependencies at launch (`launch(args, { dependsOn: [keys] })`), without a graph. The
 * dependent's record is created `pending` (its parents in `meta.dependsOn`) and held back
 * from the backend, by the launching process, until its parents end: it goes to the
 * backend once every parent completed, and ends at once when one did not (failed or
 * gone: `failed` with DependencyFailedError; cancelled: `cancelled`), which cascades to
 * its own dependents. The launching process watches the parents through the store
 * (`watch`, else polling), so every backend gets it. The hold lives in that process: if
 * it stops first, the dependent stays `pending` (see docs/flow-control.md).
 */

/** Checks the `dependsOn` launch option: valid keys, no duplicates, not the computation itself. */
export function checkDependsOn(task: string, key: string, dependsOn: unknown): readonly string[] {
  if (!Array.isArray(dependsOn) || dependsOn.length === 0) {
    throw new TypeError(
      `[au] launch of "${task}": dependsOn must be a non-empty array of computation keys, got ${JSON.stringify(dependsOn)}`,
    );
  }
  for (const parent of dependsOn) assertValidKey(parent);
  if (new Set(dependsOn).size !== dependsOn.length)
    throw new TypeError(`[au] launch of "${task}": dependsOn names a key twice`);
  if (dependsOn.includes(key))
    throw new TypeError(`[au] launch of "${task}": "${key}" cannot depend on itself`);
  return dependsOn as string[];
}

/**
 * Reads the parents. Throws `UnknownDependencyError` (before anything is written) when
 * the store lacks one; resolves `true` when all of them completed already.
 */
export async function parentsCompleted(
  store: ComputationStore,
  task: string,
  parents: readonly string[],
): Promise<boolean> {
  const records = await Promise.all(parents.map((parent) => store.get(parent)));
  const missing = parents.filter((_, index) => records[index] === undefined);
  if (missing.length > 0) throw new UnknownDependencyError({ task, missing, store: store.name });
  return records.every((record) => record?.status === 'completed');
}

export interface HoldOptions {
  store: ComputationStore;
  /** The dependents held (one launch, or the computations of one `launchMany`). */
  keys: readonly string[];
  parents: readonly string[];
  /** Hands the dependents still pending to the backend. */
  start(keys: readonly string[]): Promise<void>;
  /** Seconds an ended dependent is kept. */
  ttl?: number | undefined;
  clock?: Clock;
  logger?: TaskLogger;
}

/** Holds the dependents until their parents end, then starts or ends them (not awaited). */
export function holdUntilParentsEnd(options: HoldOptions): void {
  const release = keepProcessAlive();
  void hold(options)
    .catch((error: unknown) =>
      (options.logger ?? silentLogger).error(
        { err: error, keys: options.keys },
        `[au] computations ${options.keys.map((key) => `"${key}"`).join(', ')} could not be started after their parents`,
      ),
    )
    .finally(release);
}

// ---- private helpers ------------------------------------------------------------

/** How a parent ended: its final record, or `undefined` when it disappeared. */
type ParentEnd = { parent: string; record: ComputationRecord | undefined };

async function hold(options: HoldOptions): Promise<void> {
  const { store, keys } = options;
  const controller = new AbortController();
  const blocker = await firstBlocker(options, controller).finally(() => controller.abort());
  const lifecycle = {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  if (blocker === undefined) {
    // A dependent cancelled meanwhile stays as it is.
    const records = await Promise.all(keys.map((key) => store.get(key)));
    const pending = keys.filter((_, index) => records[index]?.status === 'pending');
    if (pending.length > 0) await options.start(pending);
    return;
  }
  const { parent, record } = blocker;
  await Promise.all(
    keys.map((key) =>
      record?.status === 'cancelled'
        ? recordCancelled({
            store,
            key,
            error: new CancelledError({ key, reason: `its parent "${parent}" was cancelled` }),
            ttl: options.ttl,
            ...lifecycle,
          })
        : failComputation(
            store,
            key,
            {
              from: 'active',
              error: new DependencyFailedError({
                key,
                parent,
                why:
                  record === undefined
                    ? 'is gone from the store (deleted or expired)'
                    : `failed${record.error === undefined ? '' : ` (${record.error.name}: ${record.error.message})`}`,
              }),
            },
            lifecycle,
          ),
    ),
  );
}

/** The first parent that ends other than `completed`, or `undefined` once all completed. */
function firstBlocker(options: HoldOptions, controller: AbortController): Promise<ParentEnd | undefined> {
  return new Promise((resolve, reject) => {
    let left = options.parents.length;
    for (const parent of options.parents) {
      followToEnd(options, parent, controller.signal).then((end) => {
        if (end.record?.status !== 'completed') resolve(end);
        else if (--left === 0) resolve(undefined);
      }, reject);
    }
  });
}

/** Follows a parent to its end, through store errors (tried again each second). */
async function followToEnd(options: HoldOptions, parent: string, signal: AbortSignal): Promise<ParentEnd> {
  const clock = options.clock ?? systemClock;
  for (;;) {
    try {
      let last: ComputationRecord | undefined;
      for await (const record of followRecord(options.store, parent, { signal, clock })) last = record;
      return { parent, record: last };
    } catch (error) {
      if (ComputationNotFoundError.isInstance(error)) return { parent, record: undefined };
      if (signal.aborted) return { parent, record: undefined };
      (options.logger ?? silentLogger).warn(
        { err: error, parent },
        `[au] could not read parent "${parent}" of ${options.keys.map((key) => `"${key}"`).join(', ')}; trying again`,
      );
      await sleep(1000, { clock, signal }).catch(() => undefined);
    }
  }
}
