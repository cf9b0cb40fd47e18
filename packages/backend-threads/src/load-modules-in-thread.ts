import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TaskRegistry } from '@au/core';
import { isTypeScriptModule, TASK_MODULES_WHERE } from '@au/core/kit';

/**
 * Loads task modules inside a worker thread. TypeScript modules are loaded with
 * `require` (tsx's CommonJS hook, preloaded through `execArgv`), because Node 20 runs no
 * ESM loader hooks in worker threads; JavaScript modules are imported.
 */
export async function loadModulesInThread(modules: readonly string[]): Promise<TaskRegistry> {
  const registry = new TaskRegistry([], TASK_MODULES_WHERE);
  for (const specifier of modules) {
    let moduleExports: Record<string, unknown>;
    try {
      if (isTypeScriptModule(specifier) && specifier.startsWith('file:')) {
        const path = fileURLToPath(specifier);
        moduleExports = createRequire(path)(path) as Record<string, unknown>;
      } else {
        moduleExports = (await import(specifier)) as Record<string, unknown>;
      }
    } catch (error) {
      throw new TypeError(
        `[au] [threads] cannot load task module ${specifier} in a worker thread: ${(error as Error).message}`,
        { cause: error },
      );
    }
    registry.addModule(moduleExports);
  }
  return registry;
}
