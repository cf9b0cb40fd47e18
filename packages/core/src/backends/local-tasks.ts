import type { Invocation, TaskRegistration } from '../contracts/backend';
import type { Codec } from '../contracts/codec';
import type { Middleware } from '../contracts/middleware';
import { TaskNotFoundError } from '../errors/task-not-found-error';
import { type RetryPolicy, withRetryFunctions } from '../retry-policy';
import type { TaskDefinition, TaskLogger } from '../task';

/** Everything an executor needs to run one invocation here. */
export interface LocalRun {
  task: TaskDefinition;
  codec: Codec;
  middleware: readonly Middleware[];
  retry: RetryPolicy;
  logger?: TaskLogger;
}

/**
 * The tasks a local backend runs, by name: those core registered (`register`, from
 * `asyncCompute` and `submitTask`) and, when given, those of the backend's own task
 * modules. Turns a plain `Invocation` into what the executor runs.
 */
export class LocalTasks {
  readonly #where: string;
  readonly #registered = new Map<string, TaskRegistration>();
  readonly #modules: ((name: string) => TaskDefinition | undefined) | undefined;
  readonly #moduleNames: (() => readonly string[]) | undefined;
  readonly #defaults: Pick<LocalRun, 'codec' | 'middleware'>;

  constructor(options: {
    /** For messages: "the tasks launched on this in-process backend". */
    where: string;
    /** Defaults for tasks found in modules only. */
    defaults: Pick<LocalRun, 'codec' | 'middleware'>;
    /** The backend's task modules, when it has some. */
    modules?: { find(name: string): TaskDefinition | undefined; names(): readonly string[] };
  }) {
    this.#where = options.where;
    this.#defaults = options.defaults;
    this.#modules = options.modules === undefined ? undefined : (name) => options.modules!.find(name);
    this.#moduleNames = options.modules === undefined ? undefined : () => options.modules!.names();
  }

  /** Remembers how `registration.task` runs; the latest registration of a name wins. */
  register(registration: TaskRegistration): void {
    const name = registration.task.name;
    // Only registrations are compared: a module's copy of a task may be another object.
    const known = this.#registered.get(name)?.task;
    if (known !== undefined && known !== registration.task && known.run !== registration.task.run) {
      throw new TypeError(
        `[au] two different tasks are named "${name}" in ${this.#where}: give each task its own name`,
      );
    }
    this.#registered.set(name, registration);
  }

  /** What core registered under `name`, if anything (not the backend's modules). */
  registered(name: string): TaskRegistration | undefined {
    return this.#registered.get(name);
  }

  /** Whether a task of that name can run here. */
  has(name: string): boolean {
    return this.#registered.has(name) || this.#modules?.(name) !== undefined;
  }

  /** What runs `invocation`; throws `TaskNotFoundError` when its task is unknown here. */
  resolve(invocation: Invocation): LocalRun {
    const registered = this.#registered.get(invocation.task);
    const task = registered?.task ?? this.#modules?.(invocation.task);
    if (task === undefined) {
      throw new TaskNotFoundError({
        task: invocation.task,
        where: this.#where,
        known: [...new Set([...this.#registered.keys(), ...(this.#moduleNames?.() ?? [])])],
      });
    }
    const run: LocalRun = {
      task,
      codec: registered?.codec ?? task.codec ?? this.#defaults.codec,
      middleware: registered?.middleware ?? this.#defaults.middleware,
      retry: withRetryFunctions(invocation.retry, registered?.retry ?? task.retry),
    };
    if (registered?.logger !== undefined) run.logger = registered.logger;
    return run;
  }
}
