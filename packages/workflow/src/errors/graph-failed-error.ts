import { AuError, type SerializedError } from '@au/core';

/** One node that did not complete, as `GraphFailedError` reports it. */
export interface GraphNodeFailure {
  node: string;
  key: string;
  status: 'failed' | 'cancelled';
  error: SerializedError | undefined;
}

/**
 * `graph.run()` rejects with this when the graph ended `failed`: at least one node
 * failed. `results` holds what the nodes that completed returned, by node id.
 */
export class GraphFailedError extends AuError {
  readonly graph: string;
  readonly failures: readonly GraphNodeFailure[];
  readonly results: Readonly<Record<string, unknown>>;

  constructor({
    graph,
    failures,
    results,
  }: {
    graph: string;
    failures: readonly GraphNodeFailure[];
    results: Readonly<Record<string, unknown>>;
  }) {
    const failed = failures.filter((failure) => failure.status === 'failed');
    const first = failed[0];
    const detail =
      first === undefined
        ? ''
        : `: node "${first.node}" failed with ${first.error?.name ?? 'Error'}: ${first.error?.message ?? '(no message)'}`;
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed node(s))` : '';
    const cancelled = failures.length - failed.length;
    super('AU_GRAPH_FAILED', {
      message: `[au] [workflow] graph "${graph}" failed${detail}${more}${
        cancelled > 0 ? `; ${cancelled} node(s) cancelled` : ''
      }. See error.failures for every node.`,
    });
    this.name = 'GraphFailedError';
    this.graph = graph;
    this.failures = failures;
    this.results = results;
  }

  static override isInstance(error: unknown): error is GraphFailedError {
    return AuError.isInstance(error) && error.name === 'GraphFailedError';
  }
}
