import {
  type Clock,
  type ComputationRecord,
  generateKey,
  isValidKey,
  type LaunchOptions,
  NO_RETRY,
  type SerializedError,
} from '@au/core';
import type { LaunchSettings } from '@au/core/kit';
import type { GraphNode } from './graph-node';
import type { TaskGraphOptions } from './task-graph-options';

/** How a node's computation is launched: the task's settings under the node's and the graph's. */
export function nodeLaunchSettings(node: GraphNode, options: TaskGraphOptions, clock: Clock): LaunchSettings {
  const { store, backend, ttl, middleware, logger } = options;
  const settings: LaunchSettings = {
    store,
    backend,
    codec: node.codec,
    retry: node.options.retry ?? node.task.retry ?? NO_RETRY,
    middleware: middleware ?? [],
    clock,
  };
  const timeout = node.options.timeout ?? node.task.timeout;
  if (timeout !== undefined) settings.timeout = timeout;
  const nodeTtl = ttl ?? node.task.ttl;
  if (nodeTtl !== undefined) settings.ttl = nodeTtl;
  if (logger !== undefined) settings.logger = logger;
  return settings;
}

/** The launch options of a node's computation, under its current key. */
export function nodeLaunchOptions(
  node: GraphNode,
  graph: string,
  meta: Record<string, unknown> = {},
): LaunchOptions {
  const options: LaunchOptions = { key: node.key, parent: graph, meta: { node: node.id, ...meta } };
  if (node.options.priority !== undefined) options.priority = node.options.priority;
  if (node.options.tags !== undefined) options.tags = node.options.tags;
  return options;
}

/**
 * The record of a node that ends without having run (an args function that threw, a
 * refused launch, a cancel before its turn), written so that it is readable by key.
 * It is created already ended: it never was pending, so no status change is written.
 */
export function unlaunchedRecord(
  node: GraphNode,
  graph: string,
  ending: {
    status: 'failed' | 'cancelled';
    error: SerializedError;
    finishedAt: number;
    ttl: number | undefined;
  },
): ComputationRecord {
  const { status, error, finishedAt, ttl } = ending;
  const record: ComputationRecord = {
    key: node.key,
    task: node.task.name,
    status,
    error,
    attempt: 0,
    maxAttempts: 1,
    createdAt: finishedAt,
    finishedAt,
    parent: graph,
    meta: { node: node.id },
  };
  if (ttl !== undefined) {
    record.ttl = ttl;
    record.expiresAt = finishedAt + ttl * 1000;
  }
  return record;
}

/**
 * The key of a node's next computation when a resume launches it again: a fresh
 * computation, never the old record re-opened (a terminal record never changes, and the
 * old one keeps what happened to it). `<defined key>:relaunch-<n>`, `n` counting the
 * node's computations (2 for the first relaunch); a generated key when that would be too
 * long or is another node's key in this graph.
 */
export function relaunchKey(node: GraphNode, generation: number, taken: ReadonlySet<string>): string {
  const derived = `${node.definedKey}:relaunch-${generation}`;
  return isValidKey(derived) && !taken.has(derived) ? derived : generateKey();
}
