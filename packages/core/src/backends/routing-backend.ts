import type {
  BackendCapabilities,
  CloseOptions,
  ComputationBackend,
  Invocation,
  PausedState,
  TaskRegistration,
} from '../contracts/backend';
import type { ComputationStore } from '../contracts/store';
import { ConfigError } from '../errors/config-error';
import { checkOptions, optionNames } from '../internal/check-options';
import { RESOURCE_HINTS, type ResourceHint, type TaskDefinition } from '../task';

export interface RoutingBackendOptions {
  /**
   * The backend for each resource hint a task declares (`defineTask({ resources })`):
   * e.g. `{ cpu: processes, io: inProcess }`. One backend may serve several hints.
   */
  routes: Partial<Record<ResourceHint, ComputationBackend>>;
  /**
   * The backend for tasks without a hint, or with a hint `routes` does not name.
   * @default none: such a task is refused at launch with `ConfigError`
   */
  default?: ComputationBackend;
}

const NAME = 'routing';

const ROUTING_OPTIONS = optionNames<RoutingBackendOptions>({ routes: true, default: true });

/**
 * Composes backends and sends each task where its resource hint says: CPU-heavy work to
 * processes, I/O-bound work to the event loop, the rest to a default. Core registers
 * each task before its launch (`register`), which is where the routing backend learns,
 * and checks, the task's route; a task whose hint no backend serves (and no default) is
 * refused there with `ConfigError`, before anything is written. `cancel` asks every
 * backend (the key alone does not say which holds it); `bind`, `close` and `ping` go to
 * all of them. A task's `maxQueued` is counted by the backend it routes to.
 *
 * It can pause when every backend it routes to can: `pause(task)` and `resume(task)` go
 * to all of them (a task paused where it does not run is harmless, and a pause holds even
 * before the task's first launch registers its route); `paused()` merges theirs: the queue
 * is paused when every backend's is, and a task is listed when any backend lists it.
 */
export class RoutingBackend implements ComputationBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities;
  readonly #routes: Partial<Record<ResourceHint, ComputationBackend>>;
  readonly #default: ComputationBackend | undefined;
  /** Every distinct backend, routes first. */
  readonly #backends: readonly ComputationBackend[];
  /** The backend of each task core registered. */
  readonly #byTask = new Map<string, ComputationBackend>();
  /** Present when every routed backend can pause (see the class comment). */
  readonly pause?: (task?: string) => Promise<void>;
  readonly resume?: (task?: string) => Promise<void>;
  readonly paused?: () => Promise<PausedState>;

  constructor(options: RoutingBackendOptions) {
    checkOptions(`[${NAME}] RoutingBackend`, options, ROUTING_OPTIONS);
    const routes = options?.routes;
    if (typeof routes !== 'object' || routes === null) {
      throw new TypeError(
        `[au] [${NAME}] RoutingBackend: \`routes\` must map resource hints to backends, e.g. { cpu: processes, io: inProcess }`,
      );
    }
    for (const [hint, backend] of Object.entries(routes)) {
      if (!RESOURCE_HINTS.includes(hint as ResourceHint)) {
        throw new TypeError(
          `[au] [${NAME}] RoutingBackend: unknown resource hint "${hint}" in \`routes\`; use ${RESOURCE_HINTS.map((known) => `'${known}'`).join(', ')}`,
        );
      }
      assertBackend(`routes.${hint}`, backend);
    }
    if (options.default !== undefined) assertBackend('default', options.default);
    this.#routes = { ...routes };
    this.#default = options.default;
    this.#backends = [
      ...new Set([...Object.values(routes), ...(options.default === undefined ? [] : [options.default])]),
    ] as ComputationBackend[];
    if (this.#backends.length === 0) {
      throw new TypeError(`[au] [${NAME}] RoutingBackend: give at least one route or a \`default\` backend`);
    }
    const all = (flag: keyof BackendCapabilities) =>
      this.#backends.every((backend) => backend.capabilities[flag]);
    this.capabilities = {
      inlineFunctions: all('inlineFunctions'),
      durable: all('durable'),
      priority: all('priority'),
      preemptiveCancel: all('preemptiveCancel'),
    };
    const pausable = this.#backends.filter(
      (
        backend,
      ): backend is ComputationBackend & Required<Pick<ComputationBackend, 'pause' | 'resume' | 'paused'>> =>
        backend.pause !== undefined && backend.resume !== undefined && backend.paused !== undefined,
    );
    if (pausable.length === this.#backends.length) {
      this.pause = async (task) => {
        await Promise.all(pausable.map((backend) => backend.pause(task)));
      };
      this.resume = async (task) => {
        await Promise.all(pausable.map((backend) => backend.resume(task)));
      };
      this.paused = async () => mergePaused(await Promise.all(pausable.map((backend) => backend.paused())));
    }
  }

  /** The backend `task` runs on; `ConfigError` when its hint has no route and there is no default. */
  route(task: TaskDefinition): ComputationBackend {
    const hint = task.resources;
    const backend = (hint === undefined ? undefined : this.#routes[hint]) ?? this.#default;
    if (backend === undefined) {
      const served = Object.keys(this.#routes).join(', ') || 'none';
      throw new ConfigError({
        setting: 'routes',
        message:
          hint === undefined
            ? `task "${task.name}" declares no \`resources\` hint and the routing backend has no default; add \`resources\` to the task or a default backend`
            : `task "${task.name}" declares resources '${hint}', which no route serves (routes: ${served}) and there is no default; add a route for '${hint}' or a default backend`,
      });
    }
    return backend;
  }

  register(registration: TaskRegistration): void {
    const backend = this.route(registration.task);
    backend.register?.(registration);
    this.#byTask.set(registration.task.name, backend);
  }

  async bind(store: ComputationStore): Promise<void> {
    await Promise.all(this.#backends.map((backend) => backend.bind?.(store)));
  }

  async launch(invocation: Invocation): Promise<void> {
    await this.#backendOf(invocation.task).launch(invocation);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    const groups = new Map<ComputationBackend, Invocation[]>();
    for (const invocation of invocations) {
      const backend = this.#backendOf(invocation.task);
      const group = groups.get(backend) ?? [];
      group.push(invocation);
      groups.set(backend, group);
    }
    await Promise.all(
      [...groups].map(async ([backend, group]) => {
        if (backend.launchMany !== undefined) await backend.launchMany(group);
        else for (const invocation of group) await backend.launch(invocation);
      }),
    );
  }

  /** Waiting work of `task` on its backend; of every task, the sum over the backends. */
  async queued(task?: string): Promise<number> {
    if (task !== undefined) {
      const backend = this.#backendOf(task);
      if (backend.queued === undefined) {
        throw new ConfigError({
          setting: 'maxQueued',
          message: `backend ${backend.name} (routed to by task "${task}") cannot count its queue`,
        });
      }
      return backend.queued(task);
    }
    const counts = await Promise.all(this.#backends.map((backend) => backend.queued?.() ?? 0));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Asks every backend: the key alone does not say which one holds the computation. */
  async cancel(key: string, reason?: string): Promise<boolean> {
    const found = await Promise.all(this.#backends.map((backend) => backend.cancel(key, reason)));
    return found.some(Boolean);
  }

  async close(options?: CloseOptions): Promise<void> {
    await Promise.all(this.#backends.map((backend) => backend.close(options)));
  }

  async ping(): Promise<void> {
    await Promise.all(this.#backends.map((backend) => backend.ping?.()));
  }

  /** The backends it routes to (distinct, routes first then the default). */
  get backends(): readonly ComputationBackend[] {
    return this.#backends;
  }

  // ---- private helpers ------------------------------------------------------------

  #backendOf(task: string): ComputationBackend {
    const backend = this.#byTask.get(task) ?? this.#default;
    if (backend === undefined) {
      throw new ConfigError({
        setting: 'routes',
        message: `task "${task}" was never registered with the routing backend and there is no default: launch it through core (asyncCompute, submitTask, the HTTP layer), which registers it first`,
      });
    }
    return backend;
  }
}

function mergePaused(states: readonly PausedState[]): PausedState {
  const tasks = new Set(states.flatMap((state) => state.tasks));
  return { queue: states.every((state) => state.queue), tasks: [...tasks].sort() };
}

function assertBackend(where: string, value: unknown): void {
  const backend = value as Partial<ComputationBackend> | undefined;
  if (typeof backend?.launch !== 'function' || typeof backend.cancel !== 'function') {
    throw new TypeError(`[au] [${NAME}] RoutingBackend: \`${where}\` is not a backend (no launch/cancel)`);
  }
}
