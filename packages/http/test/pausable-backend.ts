import {
  type BackendCapabilities,
  type CloseOptions,
  type ComputationBackend,
  type ComputationStore,
  InProcessBackend,
  type InProcessBackendOptions,
  type Invocation,
  type PausedState,
  type TaskRegistration,
} from '@au/core';

/**
 * Test only: an InProcessBackend wrapped to pause by holding launches of paused tasks (or
 * of every task while the queue is paused) and launching them on resume. Enough to drive
 * the routes; the real pauses are tested in the backends' own suites. A wrapper, not a
 * subclass, so it stays the same whether or not InProcessBackend pauses by itself.
 */
export class PausableBackend implements ComputationBackend {
  readonly name = 'in-process';
  readonly #inner: InProcessBackend;
  #queue = false;
  readonly #tasks = new Set<string>();
  #held: Invocation[] = [];

  constructor(options: InProcessBackendOptions = {}) {
    this.#inner = new InProcessBackend(options);
  }

  get capabilities(): BackendCapabilities {
    return this.#inner.capabilities;
  }

  bind(store: ComputationStore): Promise<void> {
    return this.#inner.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#inner.register(registration);
  }

  async launch(invocation: Invocation): Promise<void> {
    if (this.#queue || this.#tasks.has(invocation.task)) this.#held.push(invocation);
    else await this.#inner.launch(invocation);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    for (const invocation of invocations) await this.launch(invocation);
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    const held = this.#held.length;
    this.#held = this.#held.filter((invocation) => invocation.key !== key);
    return this.#held.length < held || this.#inner.cancel(key, reason);
  }

  close(options?: CloseOptions): Promise<void> {
    return this.#inner.close(options);
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  async pause(task?: string): Promise<void> {
    if (task === undefined) this.#queue = true;
    else this.#tasks.add(task);
  }

  async resume(task?: string): Promise<void> {
    if (task === undefined) this.#queue = false;
    else this.#tasks.delete(task);
    const held = this.#held;
    this.#held = [];
    for (const invocation of held) await this.launch(invocation);
  }

  async paused(): Promise<PausedState> {
    return { queue: this.#queue, tasks: [...this.#tasks].sort() };
  }
}
