import { jsonCodec } from '../../codecs/json-codec';
import { structuredCodec } from '../../codecs/structured-codec';
import type { Codec } from '../../contracts/codec';
import type { TaskDefinition } from '../../task';
import { toModuleSpecifier } from '../../task-registry';

/** Where a pooled backend's task modules are named in errors. */
export const TASK_MODULES_WHERE = "this backend's task modules";

/** Task modules as given (one, or a list) → `file:` URLs (or package names). */
export function normalizeTaskModules(tasks: string | URL | readonly (string | URL)[] | undefined): string[] {
  const list = tasks === undefined ? [] : typeof tasks === 'string' || tasks instanceof URL ? [tasks] : tasks;
  return list.map((item) => (item instanceof URL ? item.href : toModuleSpecifier(item)));
}

/** True when a module is TypeScript (`.ts`, `.mts`, `.cts`, `.tsx`): its workers need tsx. */
export function isTypeScriptModule(specifier: string): boolean {
  const path = specifier.startsWith('file:') ? new URL(specifier).pathname : specifier;
  return /\.[cm]?tsx?$/.test(path);
}

/**
 * In a worker: the codec named `name`, one of core's or the task's own. `component` and
 * `place` name the worker in the error: `[au] [threads] … in the worker thread`.
 */
export function resolveCodec(name: string, task: TaskDefinition, component: string, place: string): Codec {
  if (task.codec?.name === name) return task.codec;
  if (name === jsonCodec.name) return jsonCodec;
  if (name === structuredCodec.name) return structuredCodec;
  throw new TypeError(
    `[au] [${component}] codec "${name}" is not known in the ${place}: set it as the task's codec (defineTask({ codec })) so that the task module brings it`,
  );
}
