import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Codec, jsonCodec, structuredCodec, type TaskDefinition, TaskRegistry } from '@au/core';
import { toModuleSpecifier } from '@au/core/kit';

/** Where the threads' task modules are named in errors. */
export const TASK_MODULES_WHERE = "this backend's task modules";

/** Task modules as given (one, or a list) → `file:` URLs (or package names). */
export function normalizeTaskModules(tasks: string | URL | readonly (string | URL)[] | undefined): string[] {
  const list = tasks === undefined ? [] : typeof tasks === 'string' || tasks instanceof URL ? [tasks] : tasks;
  return list.map((item) => (item instanceof URL ? item.href : toModuleSpecifier(item)));
}

/** True when a module is TypeScript (`.ts`, `.mts`, `.cts`, `.tsx`). */
export function isTypeScriptModule(specifier: string): boolean {
  const path = specifier.startsWith('file:') ? new URL(specifier).pathname : specifier;
  return /\.[cm]?tsx?$/.test(path);
}

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

/** The codec named `name`: one of core's, or the task's own. */
export function resolveCodec(name: string, task: TaskDefinition): Codec {
  if (task.codec?.name === name) return task.codec;
  if (name === jsonCodec.name) return jsonCodec;
  if (name === structuredCodec.name) return structuredCodec;
  throw new TypeError(
    `[au] [threads] codec "${name}" is not known in the worker thread: set it as the task's codec (defineTask({ codec })) so that the task module brings it`,
  );
}
