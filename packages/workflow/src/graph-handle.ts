import { ComputationHandle } from '@au/core';
import type { HandleContext } from '@au/core/kit';
import type { GraphProgress, GraphSummary } from './graph-state';

/** How a handle reaches the live graph of this process, when there is one. */
interface LiveGraph {
  ready(): Promise<void>;
  cancel(reason?: string): Promise<boolean>;
}

/**
 * The graph's own computation (task `au:graph`): its status, its progress as
 * `{ done, total, completed, failed, cancelled }`, and once it has ended a summary of
 * every node's key and status as its result. Re-attach from anywhere with
 * `new GraphHandle(key, { store, backend, codec: jsonCodec })`: a cancel through such a
 * handle marks the graph record cancelled, and the orchestrating process cancels the nodes.
 */
export class GraphHandle extends ComputationHandle<GraphSummary> {
  readonly #live: LiveGraph | undefined;

  constructor(key: string, context: HandleContext, live?: LiveGraph) {
    super(key, context);
    this.#live = live;
  }

  override async record() {
    await this.#live?.ready();
    return super.record();
  }

  override async result(options?: Parameters<ComputationHandle<GraphSummary>['result']>[0]) {
    await this.#live?.ready();
    return super.result(options);
  }

  override async progress(): Promise<GraphProgress | undefined> {
    return (await this.record()).progress as GraphProgress | undefined;
  }

  /** Cancels the graph: every node still pending or running, and those not launched yet. */
  override async cancel(reason?: string): Promise<boolean> {
    if (this.#live !== undefined) return this.#live.cancel(reason);
    return super.cancel(reason);
  }
}
