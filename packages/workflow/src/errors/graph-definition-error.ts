import { AuError } from '@au/core';

/**
 * A graph was defined wrongly: an unknown or foreign dependency, a node that would close
 * a cycle, a duplicate or invalid node id, a node added after the graph started, or a
 * definition given to `TaskGraph.resume` that differs from the stored one.
 */
export class GraphDefinitionError extends AuError {
  readonly graph: string;

  constructor({ graph, message, cause }: { graph: string; message: string; cause?: unknown }) {
    super('AU_GRAPH_DEFINITION', { message: `[au] [workflow] graph "${graph}": ${message}`, cause });
    this.name = 'GraphDefinitionError';
    this.graph = graph;
  }

  static override isInstance(error: unknown): error is GraphDefinitionError {
    return AuError.isInstance(error) && error.name === 'GraphDefinitionError';
  }
}
