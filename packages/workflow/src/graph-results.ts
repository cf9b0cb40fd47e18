import type { NodeRef } from './node-ref';

/** What `graph.run()` resolves with: each node's result, by reference or by id. */
export class GraphResults {
  /** Every node's result by node id. */
  readonly byId: Readonly<Record<string, unknown>>;

  constructor(byId: Record<string, unknown>) {
    this.byId = Object.freeze(byId);
  }

  /** The result of one node (typed by its reference). */
  get<Result>(node: NodeRef<Result>): Result;
  get(node: string): unknown;
  get(node: NodeRef | string): unknown {
    const id = typeof node === 'string' ? node : node.id;
    if (!(id in this.byId)) throw new RangeError(`[au] [workflow] no result for node "${id}" in this graph`);
    return this.byId[id];
  }

  /** Node ids, in the order the nodes were added. */
  keys(): string[] {
    return Object.keys(this.byId);
  }
}
