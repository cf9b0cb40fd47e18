import { describe, expect, it } from 'vitest';
import { asyncCompute, defineTask, InProcessBackend, MemoryStore, submitTask } from '../src/index';

const double = defineTask({ name: 'double', run: (x: number) => x * 2 });
const gate = defineTask({
  name: 'gate',
  run: (_: undefined, context) =>
    new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true })),
});

describe('dependsOn', () => {
  describe('when the option is malformed', () => {
    it('should refuse it before anything is written', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const parent = await submitTask(double, 1, { store, backend });
      await parent.result();
      const launch = (dependsOn: unknown, key = 'child') =>
        submitTask(double, 2, { store, backend, key, dependsOn: dependsOn as string[] });
      await expect(launch([])).rejects.toThrow(/dependsOn must be a non-empty array/);
      await expect(launch([parent.key, parent.key])).rejects.toThrow(/dependsOn names a key twice/);
      await expect(launch(['child'])).rejects.toThrow(/"child" cannot depend on itself/);
      await expect(launch(['../x'])).rejects.toThrow(/not a valid key/);
      expect(await store.get('child')).toBeUndefined();
      await backend.close();
    });
  });

  describe('when map launches many dependents', () => {
    it('should hold them all until the parent completes', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const parent = await submitTask(gate, undefined, { store, backend });
      const children = await asyncCompute(double, { store, backend }).map([[1], [2], [3]], {
        dependsOn: [parent.key],
      });
      for (const child of children) expect(await child.status()).toBe('pending');
      // The gate's abort ends it `cancelled`: its dependents follow.
      await parent.cancel();
      for (const child of children) {
        await expect(child.result({ timeout: 5000 })).rejects.toThrow(/its parent ".*" was cancelled/);
      }
      await backend.close();
    });
  });
});
