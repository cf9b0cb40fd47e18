import type { ComputationBackend } from '../contracts/backend';
import { ConfigError } from '../errors/config-error';
import { QueueFullError } from '../errors/queue-full-error';
import type { TaskDefinition } from '../task';

/**
 * Admits `count` launches of `task` on `backend` when neither the task's nor the
 * backend's `maxQueued` would be passed, before any record is written; else throws
 * `QueueFullError`. Returns a release to call once the backend has taken the work (or
 * refused it).
 *
 * The backend counts what waits in its queue (`queued`); launches this process has
 * admitted but the backend has not taken yet count too, so that many launches started
 * at once cannot all pass one check. Launches from other processes in flight at the same
 * instant are not seen: a shared queue may pass its bound by those (a soft bound).
 */
export async function admitLaunch(
  task: TaskDefinition,
  backend: ComputationBackend,
  count: number,
): Promise<() => void> {
  // A composing backend (RoutingBackend) bounds nothing itself: the one it routes to does.
  while (backend.route !== undefined) {
    const routed = backend.route(task);
    if (routed === backend) break;
    backend = routed;
  }
  const limits: { scope: 'task' | 'backend'; limit: number }[] = [];
  if (task.maxQueued !== undefined) limits.push({ scope: 'task', limit: task.maxQueued });
  if (backend.maxQueued !== undefined) limits.push({ scope: 'backend', limit: backend.maxQueued });
  if (limits.length === 0) return noop;
  if (backend.queued === undefined) {
    throw new ConfigError({
      setting: 'maxQueued',
      message: `backend ${backend.name} cannot count its queue, so task "${task.name}" cannot be bounded there; remove maxQueued or use a backend that supports it`,
    });
  }
  const releases: (() => void)[] = [];
  try {
    for (const { scope, limit } of limits) {
      const inFlight = reservations(backend, scope === 'task' ? task.name : ANY_TASK);
      const before = inFlight.count;
      inFlight.count += count;
      releases.push(once(() => (inFlight.count -= count)));
      const queued = await backend.queued(scope === 'task' ? task.name : undefined);
      if (queued + before + count > limit) {
        throw new QueueFullError({ task: task.name, backend: backend.name, scope, limit, queued });
      }
    }
  } catch (error) {
    for (const release of releases) release();
    throw error;
  }
  return () => {
    for (const release of releases) release();
  };
}

// ---- private helpers ------------------------------------------------------------

const ANY_TASK = Symbol('any task');
const inFlightByBackend = new WeakMap<ComputationBackend, Map<string | symbol, { count: number }>>();

/** Launches this process admitted on `backend` (for one task, or for all) not yet taken by it. */
function reservations(backend: ComputationBackend, scope: string | symbol): { count: number } {
  let byScope = inFlightByBackend.get(backend);
  if (byScope === undefined) {
    byScope = new Map();
    inFlightByBackend.set(backend, byScope);
  }
  let entry = byScope.get(scope);
  if (entry === undefined) {
    entry = { count: 0 };
    byScope.set(scope, entry);
  }
  return entry;
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}

function noop(): void {}
