import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TaskNotFoundError } from './errors/task-not-found-error';
import { isTaskDefinition, type TaskDefinition } from './task';

/**
 * Tasks by name: what a worker, thread or process can run. Built from task modules
 * (every exported `defineTask` result is a task).
 */
export class TaskRegistry {
  readonly #tasks = new Map<string, TaskDefinition>();
  readonly #where: string;

  /** `where` names the registry in errors, e.g. "this backend's task modules". */
  constructor(tasks: Iterable<TaskDefinition> = [], where = 'the task registry') {
    this.#where = where;
    for (const task of tasks) this.add(task);
  }

  /** Adds a task; a different task under the same name is an error. */
  add(task: TaskDefinition): this {
    if (!isTaskDefinition(task)) throw new TypeError('[au] TaskRegistry.add: not a task made by defineTask');
    const existing = this.#tasks.get(task.name);
    if (existing !== undefined && existing !== task) {
      throw new TypeError(`[au] two different tasks are named "${task.name}": task names must be unique`);
    }
    this.#tasks.set(task.name, task);
    return this;
  }

  /** Adds every task a module exports (its named exports and its default export). */
  addModule(moduleExports: Record<string, unknown>): this {
    for (const value of Object.values(moduleExports)) {
      if (isTaskDefinition(value)) this.add(value);
      else if (Array.isArray(value)) for (const item of value) if (isTaskDefinition(item)) this.add(item);
    }
    return this;
  }

  has(name: string): boolean {
    return this.#tasks.has(name);
  }

  /** The task, or `undefined`. */
  find(name: string): TaskDefinition | undefined {
    return this.#tasks.get(name);
  }

  /** The task; throws `TaskNotFoundError` listing the known names. */
  get(name: string): TaskDefinition {
    const task = this.#tasks.get(name);
    if (task === undefined)
      throw new TaskNotFoundError({ task: name, where: this.#where, known: this.names() });
    return task;
  }

  names(): string[] {
    return [...this.#tasks.keys()].sort();
  }

  [Symbol.iterator](): IterableIterator<TaskDefinition> {
    return this.#tasks.values();
  }

  get size(): number {
    return this.#tasks.size;
  }
}

/**
 * Loads task modules (paths or `file:` URLs) into a registry. Used by threads, processes
 * and distributed workers, which all run tasks by name.
 */
export async function loadTaskModules(
  modules: readonly (string | URL)[],
  where = 'the loaded task modules',
): Promise<TaskRegistry> {
  const registry = new TaskRegistry([], where);
  for (const specifier of modules) {
    const url = specifier instanceof URL ? specifier.href : toModuleSpecifier(specifier);
    let moduleExports: Record<string, unknown>;
    try {
      moduleExports = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new TypeError(`[au] cannot load task module ${String(specifier)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const before = registry.size;
    registry.addModule(moduleExports);
    if (registry.size === before) {
      throw new TypeError(
        `[au] task module ${String(specifier)} exports no task: export the results of defineTask`,
      );
    }
  }
  return registry;
}

/** A path becomes a `file:` URL (relative to the working directory); URLs and package names stay. */
export function toModuleSpecifier(specifier: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^[a-z]:[\\/]/i.test(specifier)) return specifier;
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(specifier)).href;
  return specifier;
}
