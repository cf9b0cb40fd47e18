import { describe, expect, it } from 'vitest';
import {
  type ComputationBackend,
  ConfigError,
  canPause,
  defineTask,
  InProcessBackend,
  type PausedState,
  pausedState,
  pauseQueue,
  pauseTask,
  resumeQueue,
  resumeTask,
  withDefaults,
} from '../src/index';

const report = defineTask({ name: 'report', run: () => 1 });

/** A backend that keeps its pauses in memory (the API under test only forwards to it). */
function pausableBackend(): ComputationBackend & { calls: string[] } {
  const inner = new InProcessBackend();
  const state: PausedState = { queue: false, tasks: [] };
  const calls: string[] = [];
  return Object.assign(Object.create(inner) as ComputationBackend, {
    calls,
    async pause(task?: string) {
      calls.push(`pause ${task ?? '*'}`);
      if (task === undefined) state.queue = true;
      else if (!state.tasks.includes(task)) state.tasks = [...state.tasks, task].sort();
    },
    async resume(task?: string) {
      calls.push(`resume ${task ?? '*'}`);
      if (task === undefined) state.queue = false;
      else state.tasks = state.tasks.filter((name) => name !== task);
    },
    async paused() {
      return { queue: state.queue, tasks: [...state.tasks] };
    },
  });
}

describe('pause API', () => {
  describe('when the backend can pause', () => {
    it('should pause and resume a task by definition or by name and report the state after each call', async () => {
      const backend = pausableBackend();
      expect(await pauseTask(report, { backend })).toEqual({ queue: false, tasks: ['report'] });
      expect(await pauseTask('not-launched-yet', { backend })).toEqual({
        queue: false,
        tasks: ['not-launched-yet', 'report'],
      });
      expect(await resumeTask('report', { backend })).toEqual({ queue: false, tasks: ['not-launched-yet'] });
      expect(await pauseQueue({ backend })).toEqual({ queue: true, tasks: ['not-launched-yet'] });
      expect(await resumeQueue({ backend })).toEqual({ queue: false, tasks: ['not-launched-yet'] });
      expect(await pausedState({ backend })).toEqual({ queue: false, tasks: ['not-launched-yet'] });
      expect(backend.calls).toEqual([
        'pause report',
        'pause not-launched-yet',
        'resume report',
        'pause *',
        'resume *',
      ]);
    });

    it("should use the defaults' backend when none is given", async () => {
      const backend = pausableBackend();
      await withDefaults({ backend }, () => pauseTask(report));
      expect(backend.calls).toEqual(['pause report']);
    });
  });

  describe('when the backend cannot pause', () => {
    it('should refuse with a ConfigError naming the backend', async () => {
      const backend: ComputationBackend = {
        name: 'plain',
        capabilities: { inlineFunctions: true, durable: false, priority: false, preemptiveCancel: false },
        launch: async () => undefined,
        cancel: async () => false,
        close: async () => undefined,
      };
      expect(canPause(backend)).toBe(false);
      for (const call of [
        () => pauseTask(report, { backend }),
        () => resumeTask(report, { backend }),
        () => pauseQueue({ backend }),
        () => resumeQueue({ backend }),
        () => pausedState({ backend }),
      ]) {
        await expect(call()).rejects.toThrow(ConfigError);
        await expect(call()).rejects.toThrow(/backend "plain" cannot pause and resume work/);
      }
    });
  });

  describe('when the arguments are wrong', () => {
    it('should refuse a task that is neither a definition nor a valid name', async () => {
      const backend = pausableBackend();
      for (const task of ['', 'a b', '../x', 'x'.repeat(101), 42, undefined]) {
        await expect(pauseTask(task as string, { backend })).rejects.toThrow(
          /\[au\] pauseTask: the task must be a task made by defineTask or a task name/,
        );
      }
      expect(backend.calls).toEqual([]);
    });

    it('should refuse an unknown option', async () => {
      const backend = pausableBackend();
      await expect(pauseQueue({ backend, tasks: ['x'] } as never)).rejects.toThrow(
        /pauseQueue: unknown option "tasks"/,
      );
    });
  });
});
