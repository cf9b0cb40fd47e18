import type { ComputationRecord, ComputationStatus } from '@au/core';
import type { FailurePolicy } from './task-graph-options';

/** The task name of a graph's own record: a graph is readable by key like any computation. */
export const GRAPH_TASK = 'au:graph';

/** One node as the graph record keeps it (`meta.graph.nodes`). */
export interface PersistedNode {
  id: string;
  task: string;
  /** The node's computation key. */
  key: string;
  /** Ids of its parents, in `dependsOn` order. */
  dependsOn: string[];
  failurePolicy: FailurePolicy;
  /** `parents`: the args are a function of the parents' results, rebuilt by `resume`'s `define`. */
  argsFrom: 'value' | 'parents';
}

/** The definition a graph record keeps in `meta.graph`, enough to check a resume against. */
export interface PersistedGraph {
  version: 1;
  failurePolicy: FailurePolicy;
  nodes: PersistedNode[];
}

/**
 * The graph record's `meta.relaunches`: for each node that a resume launched again, the
 * keys of its new computations, oldest first; the last is the node's current key. A node
 * not listed runs under the key of its definition.
 */
export type RelaunchedKeys = Record<string, string[]>;

/** A graph's progress, as its record's `progress` holds it. */
export interface GraphProgress {
  /** Nodes that have ended (completed, failed or cancelled). */
  done: number;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** What a graph's record holds as `value` once the graph has ended. */
export interface GraphSummary {
  status: ComputationStatus;
  /** Every node's current computation key (a relaunched node's newest) and status, by node id. */
  nodes: Record<string, { key: string; status: ComputationStatus }>;
}

/** The persisted definition of a graph record, or `undefined` when it is not a graph. */
export function readPersistedGraph(record: ComputationRecord): PersistedGraph | undefined {
  const graph = record.meta?.graph as PersistedGraph | undefined;
  if (record.task !== GRAPH_TASK || graph?.version !== 1 || !Array.isArray(graph.nodes)) return undefined;
  return graph;
}

/** The relaunched keys a graph record keeps, or none. */
export function readRelaunchedKeys(record: ComputationRecord): RelaunchedKeys {
  const relaunches = record.meta?.relaunches;
  return typeof relaunches === 'object' && relaunches !== null ? (relaunches as RelaunchedKeys) : {};
}
