import { InProcessBackend, type Invocation, type PausedState } from '@au/core';

/**
 * Test only: an InProcessBackend that pauses by holding launches of paused tasks (or of
 * every task while the queue is paused) and launching them on resume. Enough to drive the
 * HTTP routes; the real pauses are tested in the backends' own suites.
 */
export class PausableBackend extends InProcessBackend {
  #queue = false;
  readonly #tasks = new Set<string>();
  #held: Invocation[] = [];

  override async launch(invocation: Invocation): Promise<void> {
    if (this.#queue || this.#tasks.has(invocation.task)) this.#held.push(invocation);
    else await super.launch(invocation);
  }

  override async launchMany(invocations: readonly Invocation[]): Promise<void> {
    for (const invocation of invocations) await this.launch(invocation);
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
