import { type ComputationRecord, canPause } from '@au/core';
import type { FastifyBaseLogger } from 'fastify';
import type { PluginState } from './plugin-state';
import type { TaskView } from './task-view';

/**
 * Marks the pending computations of paused tasks (or of a paused queue) `paused: true`
 * in views about to be sent: one `paused()` call per request, made only when a view is
 * pending and the backend can pause. When the backend cannot answer (Redis down) the
 * views go out unmarked rather than the request failing.
 */
export async function markPaused(
  state: PluginState,
  pairs: readonly { record: ComputationRecord; view: TaskView }[],
  log: FastifyBaseLogger,
): Promise<void> {
  if (!canPause(state.backend) || !pairs.some(({ record }) => record.status === 'pending')) return;
  let paused: Awaited<ReturnType<typeof state.backend.paused>>;
  try {
    paused = await state.backend.paused();
  } catch (error) {
    log.warn({ err: error }, 'could not read what is paused: pending computations are shown unmarked');
    return;
  }
  if (!paused.queue && paused.tasks.length === 0) return;
  const tasks = new Set(paused.tasks);
  for (const { record, view } of pairs) {
    if (record.status === 'pending' && (paused.queue || tasks.has(record.task))) view.paused = true;
  }
}
