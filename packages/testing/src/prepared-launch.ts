import { type ComputationRecord, type Invocation, jsonCodec } from '@au/core';

/**
 * The record and invocation core prepares for a launch of `task` with `input` under
 * `key` (JSON codec, one attempt, priority 0), for tests that call a backend's
 * `createAndLaunch` as core would.
 */
export function preparedLaunch(
  task: { name: string },
  input: unknown,
  key: string,
): { record: ComputationRecord; invocation: Invocation } {
  const args = jsonCodec.encode(input);
  return {
    record: {
      key,
      task: task.name,
      status: 'pending',
      args,
      attempt: 0,
      maxAttempts: 1,
      priority: 0,
      createdAt: Date.now(),
    },
    invocation: { key, task: task.name, args, priority: 0, retry: { attempts: 1 } },
  };
}
