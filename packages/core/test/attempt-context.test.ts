import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { asyncCompute, defineTask, InProcessBackend, MemoryStore, type TaskContext } from '../src/index';

describe('the context of an attempt', () => {
  it('should drop what an attempt that ignored its timeout reports after it ended', async () => {
    let calls = 0;
    const lateReporter = defineTask({
      name: 'late-reporter',
      retry: { attempts: 2, backoff: 'fixed', delay: 1 },
      timeout: 300,
      run: async (_input: null, ctx: TaskContext) => {
        calls += 1;
        if (calls === 1) {
          await sleep(400); // ignores its signal: the attempt timed out at 300 ms
          ctx.progress('late');
          ctx.log.info('late line');
          return 'first';
        }
        await sleep(250); // the second attempt (from ~300 ms to ~550 ms) is running when the first reports
        return 'second';
      },
    });
    const store = new MemoryStore();
    const backend = new InProcessBackend();
    const compute = asyncCompute(lateReporter, { store, backend });
    const handle = await compute(null);

    expect(await handle.result({ timeout: 5_000 })).toBe('second');
    const record = await handle.record();
    expect(record.attempt).toBe(2);
    expect(record.progress).toBeUndefined();
    expect((record.logs?.lines ?? []).map((line) => line.message)).not.toContain('late line');
    await backend.close();
    await store.close();
  });

  it('should keep signal and log readable when destructured, as tasks take them', async () => {
    const destructuring = defineTask({
      name: 'destructuring',
      run: (_input: null, { signal, log, progress, key, attempt }: TaskContext) => {
        log.info('hello');
        progress(1);
        return { aborted: signal.aborted, key, attempt };
      },
    });
    const store = new MemoryStore();
    const backend = new InProcessBackend();
    const handle = await asyncCompute(destructuring, { store, backend })(null);

    expect(await handle.result({ timeout: 5_000 })).toEqual({ aborted: false, key: handle.key, attempt: 1 });
    const record = await handle.record();
    expect(record.progress).toBe(1);
    expect(record.logs?.lines.map((line) => line.message)).toEqual(['hello']);
    await backend.close();
    await store.close();
  });
});
