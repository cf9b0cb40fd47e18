import type { Invocation } from '../contracts/backend';
import { ComputationNotFoundError } from '../errors/computation-not-found-error';
import { RetryNotAllowedError } from '../errors/retry-not-allowed-error';
import { parentsCompleted, parentsOf } from '../flow/dependencies';
import { flowGroupsOfRecord } from '../flow/flow-limits';
import { admitLaunch } from '../flow/queue-admission';
import { assertValidKey } from '../keys';
import { holdLaunch, type LaunchSettings, markLaunchFailed, prepareBackend } from '../launch';
import type { AttemptSummary, ComputationPatch, ComputationRecord } from '../record';
import { toRetrySpec } from '../retry-policy';
import type { TaskDefinition } from '../task';

/**
 * Re-opens a `failed` or `cancelled` computation under the same key and runs it again:
 * `failed | cancelled → pending` in one conditional write (`UpdateOptions.reopen`), the
 * attempt that ended moved into `record.history`, `value`, `error`, `finishedAt` and
 * `expiresAt` cleared and `maxAttempts` raised by the policy's attempts (a full budget of
 * retries); then the backend is handed a new invocation built from the record and
 * `settings` (retry policy, timeout, ttl). Launch-side middleware does not run again.
 *
 * As a launch, a retry passes the queue's bound (`maxQueued`: `QueueFullError`) and, for a
 * computation launched with `dependsOn`, waits again for its parents (retry them first):
 * it goes to the backend once they all completed, and ends as at launch when one did not
 * (at once when one is still failed or cancelled).
 *
 * Rejects, changing nothing, with `ComputationNotFoundError` (no live record),
 * `RetryNotAllowedError` (pending, running or completed), `QueueFullError`,
 * `UnknownDependencyError` (a parent is gone from the store), or a `TypeError` when `task`
 * is not the record's task. When the backend refuses the new invocation, the record ends
 * `failed` again with the reason and the error is rethrown, as at launch.
 */
export async function retryComputation(
  key: string,
  task: TaskDefinition,
  settings: LaunchSettings,
): Promise<ComputationRecord> {
  assertValidKey(key);
  const { store } = settings;
  const current = await store.get(key);
  if (current === undefined) throw new ComputationNotFoundError({ key, store: store.name });
  if (current.task !== task.name) {
    throw new TypeError(
      `[au] computation "${key}" is of task "${current.task}", not "${task.name}": retry it with its own task`,
    );
  }
  if (current.status !== 'failed' && current.status !== 'cancelled') {
    throw new RetryNotAllowedError({ key, status: current.status });
  }
  await prepareBackend(task, settings);
  const dependsOn = parentsOf(current);
  // Unknown parents and a full queue are refused before anything is written, as at launch.
  const held = dependsOn !== undefined && !(await parentsCompleted(store, task.name, dependsOn));
  const release = await admitLaunch(task, settings.backend, 1);
  try {
    const reopened = await store.update(key, reopenPatch(current, settings.retry.attempts), {
      ifStatus: [current.status],
      reopen: true,
    });
    if (reopened === undefined) {
      const now = await store.get(key);
      if (now === undefined) throw new ComputationNotFoundError({ key, store: store.name });
      throw new RetryNotAllowedError({ key, status: now.status });
    }
    const invocation: Invocation = {
      key,
      task: task.name,
      args: reopened.args,
      priority: reopened.priority ?? 0,
      retry: toRetrySpec(settings.retry),
      replaces: true,
      ...flowGroupsOfRecord(task, reopened),
    };
    if (settings.timeout !== undefined) invocation.timeout = settings.timeout;
    const ttl = reopened.ttl ?? settings.ttl;
    if (ttl !== undefined) invocation.ttl = ttl;
    if (held) {
      holdLaunch(settings, { dependsOn: dependsOn!, ...(ttl === undefined ? {} : { ttl }) }, [invocation]);
      return reopened;
    }
    try {
      await settings.backend.launch(invocation);
    } catch (error) {
      await markLaunchFailed(settings, key, error);
      throw error;
    }
    return reopened;
  } finally {
    release();
  }
}

/** The attempt that ended, as the history keeps it. */
export function attemptSummary(record: ComputationRecord): AttemptSummary {
  const summary: AttemptSummary = {
    attempt: record.attempt,
    status: record.status === 'cancelled' ? 'cancelled' : 'failed',
  };
  if (record.error !== undefined) summary.error = record.error;
  if (record.startedAt !== undefined) summary.startedAt = record.startedAt;
  if (record.finishedAt !== undefined) summary.finishedAt = record.finishedAt;
  return summary;
}

function reopenPatch(current: ComputationRecord, attempts: number): ComputationPatch {
  return {
    status: 'pending',
    history: [...(current.history ?? []), attemptSummary(current)],
    maxAttempts: current.attempt + Math.max(attempts, 1),
    value: undefined,
    error: undefined,
    progress: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    expiresAt: undefined,
    runAt: undefined,
  };
}
