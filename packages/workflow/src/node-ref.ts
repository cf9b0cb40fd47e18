import type { TaskDefinition } from '@au/core';

declare const resultType: unique symbol;

/**
 * What `graph.add` returns: a reference to one node of one graph. Pass it in another
 * node's `dependsOn`, or to `results.get(ref)`. It carries the node's result type.
 */
export interface NodeRef<Result = unknown> {
  /** The node's id in its graph (unique there; part of its computation key). */
  readonly id: string;
  /** The key of the graph the node belongs to. */
  readonly graph: string;
  /** The key of the node's computation in the store. */
  readonly key: string;
  /** The task the node runs. */
  readonly task: TaskDefinition;
  /** Type-level only: the node's result. */
  readonly [resultType]?: Result;
}

/** A dependency: a node reference, or a node id of the same graph. */
export type Dependency = NodeRef<unknown> | string;

/**
 * What a child's args function receives: its parents' results, as an array in the
 * order of `dependsOn` (a tuple when `dependsOn` is written inline).
 */
export type ParentResults<Parents extends readonly Dependency[]> = {
  -readonly [Index in keyof Parents]: Parents[Index] extends NodeRef<infer Result> ? Result : unknown;
};
