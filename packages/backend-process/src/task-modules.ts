import { type Codec, jsonCodec, structuredCodec, type TaskDefinition } from '@au/core';
import { toModuleSpecifier } from '@au/core/kit';

/** Where the worker processes' task modules are named in errors. */
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

/** The codec named `name`: one of core's, or the task's own. */
export function resolveCodec(name: string, task: TaskDefinition): Codec {
  if (task.codec?.name === name) return task.codec;
  if (name === jsonCodec.name) return jsonCodec;
  if (name === structuredCodec.name) return structuredCodec;
  throw new TypeError(
    `[au] [process] codec "${name}" is not known in the worker process: set it as the task's codec (defineTask({ codec })) so that the task module brings it`,
  );
}
