import { describe, expect, it } from 'vitest';
import { CancelledError, defineTask, InProcessBackend, MemoryStore, submitTask } from '../src/index';

describe('cancel reasons', () => {
  describe('when a running computation is cancelled with a reason', () => {
    it('should reject result() with a CancelledError carrying that reason as a field', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const wait = defineTask({
        name: 'wait-for-abort',
        run: (_: undefined, context) =>
          new Promise((_resolve, reject) =>
            context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true }),
          ),
      });
      const handle = await submitTask(wait, undefined, { store, backend });
      while ((await handle.status()) !== 'running') await new Promise((resolve) => setTimeout(resolve, 5));
      // A reason that looks like the message prefix must survive as it is.
      expect(await handle.cancel('was cancelled: by the operator')).toBe(true);
      const error = await handle.result({ timeout: 2000 }).catch((caught: unknown) => caught);
      expect(CancelledError.isInstance(error)).toBe(true);
      expect((error as CancelledError).reason).toBe('was cancelled: by the operator');
      expect((await store.get(handle.key))?.error?.reason).toBe('was cancelled: by the operator');
      await backend.close();
    });
  });
});
