import type { Codec, ComputationStatus, SerializedError, TaskDefinition } from '@au/core';
import type { NodeRef } from './node-ref';
import type { FailurePolicy, NodeOptions } from './task-graph-options';

/** Where a node is in a run: `waiting` for its parents, `launching`, then its record's status. */
export type NodeState = 'waiting' | 'launching' | ComputationStatus;

/** A node as the graph holds it (internal). */
export interface GraphNode {
  readonly index: number;
  readonly id: string;
  /** The computation key the definition gives the node (`meta.graph`; what `resume` checks). */
  readonly definedKey: string;
  /**
   * The key of the node's current computation: `definedKey`, or the key of the
   * computation a resume launched again in its place (the graph record's `meta.relaunches`).
   */
  key: string;
  readonly task: TaskDefinition;
  readonly parents: readonly GraphNode[];
  readonly children: GraphNode[];
  readonly args: { value: unknown } | { from: (parents: unknown[]) => unknown };
  readonly options: NodeOptions;
  readonly failurePolicy: FailurePolicy;
  readonly codec: Codec;
  readonly ref: NodeRef;
  state: NodeState;
  value?: unknown;
  error?: SerializedError;
}

/** True once the node has ended. */
export function isSettled(node: GraphNode): boolean {
  return node.state === 'completed' || node.state === 'failed' || node.state === 'cancelled';
}
