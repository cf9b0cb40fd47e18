import type { ComputationRecord } from '@au/core';
import { codecFor, type PluginState, servedTask } from './plugin-state';
import type { TaskView } from './task-view';

/**
 * Adds the decoded input to a view, for `GET /tasks/{id}`: never for a task defined
 * with `hideInput: true`, nor for a task this server does not serve (it cannot know
 * whether that one hides it), nor when the plugin's `exposeInputs` is false. Then the
 * view says `inputHidden: true` and carries no input at all.
 */
export function withInput(state: PluginState, record: ComputationRecord, view: TaskView): TaskView {
  if (inputHidden(state, record.task)) return { ...view, inputHidden: true };
  if (record.args === undefined) return view;
  try {
    const input = codecFor(state, record).decode(record.args);
    return input === undefined ? view : { ...view, input };
  } catch {
    // A stored input its codec cannot read: the view is still useful without it.
    return view;
  }
}

/** Whether the inputs of this task are withheld: `hideInput`, not served here, or `exposeInputs: false`. */
export function inputHidden(state: PluginState, taskName: string): boolean {
  const task = servedTask(state, taskName);
  return !state.exposeInputs || task === undefined || task.hideInput === true;
}
