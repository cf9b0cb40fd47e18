import type { TaskLogger } from '@au/core';

/**
 * Store writes a run does not wait for as it goes (progress, records of nodes that never
 * ran, cancels), awaited all together before the graph's own record ends (internal).
 * A write that fails is logged, not thrown: the graph's outcome does not depend on it.
 */
export class BackgroundWrites {
  readonly #writes = new Set<Promise<unknown>>();
  readonly #logger: TaskLogger | undefined;
  readonly #graph: string;

  constructor(graph: string, logger: TaskLogger | undefined) {
    this.#graph = graph;
    this.#logger = logger;
  }

  track(write: Promise<unknown>): void {
    const tracked = write.catch((error: unknown) =>
      this.#logger?.warn({ err: error, key: this.#graph }, '[au] [workflow] store write failed'),
    );
    this.#writes.add(tracked);
    void tracked.finally(() => this.#writes.delete(tracked));
  }

  /** Resolves once every write tracked so far, and every one those started, has settled. */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }
}
