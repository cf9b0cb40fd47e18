import {
  assertValidKey,
  generateKey,
  isTaskDefinition,
  isValidKey,
  jsonCodec,
  type TaskDefinition,
} from '@au/core';
import { checkOptions } from '@au/core/kit';
import { GraphDefinitionError } from './errors/graph-definition-error';
import { GraphHandle } from './graph-handle';
import type { GraphNode } from './graph-node';
import type { GraphResults } from './graph-results';
import { GraphRunner } from './graph-runner';
import { type PersistedGraph, readPersistedGraph } from './graph-state';
import type { Dependency, NodeRef, ParentResults } from './node-ref';
import {
  type FailurePolicy,
  GRAPH_OPTIONS,
  NODE_OPTIONS,
  type NodeOptions,
  RESUME_OPTIONS,
  type ResumeOptions,
  type TaskGraphOptions,
} from './task-graph-options';
import { toMermaid } from './to-mermaid';

const NODE_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
/** Longest computation key (`KEY_PATTERN` of core). */
const MAX_KEY_LENGTH = 200;

/** What `add` returns; the class tells references made by `add` from look-alike objects. */
class GraphNodeRef implements NodeRef {
  readonly id: string;
  readonly graph: string;
  readonly task: TaskDefinition;
  declare readonly key: string;

  constructor(id: string, graph: string, task: TaskDefinition, currentKey: () => string) {
    this.id = id;
    this.graph = graph;
    this.task = task;
    // The node's current computation: a resume that relaunches the node moves it to a new key.
    Object.defineProperty(this, 'key', { get: currentKey, enumerable: true });
    Object.freeze(this);
  }
}

/**
 * A directed acyclic graph of computations. `add` a node per task with the nodes it
 * depends on; `run()` launches every node as soon as all its parents have completed,
 * passes it their results, and resolves with the results by node.
 *
 * Cycles are impossible by construction: a node can depend only on nodes already added
 * to the same graph, so every edge points back in the order of `add`. A dependency on
 * an unknown id, on the node itself, or on a node of another graph is refused by `add`.
 *
 * The graph has its own record in the store (task `au:graph`, key `graph.key`): its
 * status, its progress (`{ done, total, … }`) and, in `meta.graph`, its nodes, their
 * computation keys, edges and policies. `TaskGraph.resume` continues a graph whose
 * orchestrating process died.
 */
export class TaskGraph {
  /** The graph's key: its record's key, and the prefix of its nodes' keys. */
  readonly key: string;
  /** The graph's own computation: status, progress, cancel, re-attachable by key. */
  readonly handle: GraphHandle;
  readonly #options: TaskGraphOptions;
  readonly #failurePolicy: FailurePolicy;
  readonly #nodes: GraphNode[] = [];
  readonly #byId = new Map<string, GraphNode>();
  readonly #idCounts = new Map<string, number>();
  readonly #keys = new Set<string>();
  #runner: GraphRunner | undefined;

  constructor(options: TaskGraphOptions) {
    if (options?.store === undefined || options.backend === undefined) {
      throw new TypeError('[au] [workflow] new TaskGraph({ store, backend }): both are required');
    }
    checkOptions('[workflow] new TaskGraph', options, GRAPH_OPTIONS);
    this.key = options.key ?? generateKey();
    assertValidKey(this.key, 'workflow');
    this.#options = options;
    this.#failurePolicy = checkPolicy(this.key, options.failurePolicy ?? 'failFast');
    this.handle = new GraphHandle(
      this.key,
      {
        store: options.store,
        backend: options.backend,
        codec: jsonCodec,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      },
      {
        ready: () => this.#runner?.created ?? Promise.resolve(),
        cancel: (reason) => this.cancel(reason),
      },
    );
  }

  /**
   * Adds a node and returns its reference. `args` is the task's input, or a function of
   * the parents' results (an array in `dependsOn` order) that returns it.
   */
  add<Input, Result, const Parents extends readonly Dependency[] = []>(
    task: TaskDefinition<Input, Result>,
    args: Input | ((parents: ParentResults<Parents>) => Input),
    options: NodeOptions<Parents> = {},
  ): NodeRef<Result> {
    if (!isTaskDefinition(task)) {
      throw this.#error('add() takes a task made by defineTask as its first argument');
    }
    checkOptions(`[workflow] graph "${this.key}": add(${task.name})`, options, NODE_OPTIONS);
    if (this.#runner !== undefined) {
      throw this.#error(`cannot add node for task "${task.name}": the graph has already started`);
    }
    const id = options.id ?? this.#defaultId(task.name);
    if (!NODE_ID.test(id)) {
      throw this.#error(`node id "${id}" is not valid: use letters, digits, . _ : - (1 to 100 characters)`);
    }
    if (this.#byId.has(id)) {
      throw this.#error(`a node "${id}" is already in the graph: give each node its own \`id\``);
    }
    const parents = (options.dependsOn ?? []).map((dependency) => this.#resolve(id, dependency));
    const key = options.key ?? `${this.key}:${id}`;
    // A default key joins a valid graph key and a valid id with `:`: only its length can be wrong.
    if (options.key === undefined ? key.length > MAX_KEY_LENGTH : !isValidKey(key)) {
      throw this.#error(
        `node "${id}" would get the computation key "${key}", which is not valid (at most 200 of A-Z a-z 0-9 _ . : -): use a shorter graph key or node id`,
      );
    }
    if (this.#keys.has(key)) {
      throw this.#error(`node "${id}": the computation key "${key}" is already used by another node`);
    }
    const node: GraphNode = {
      index: this.#nodes.length,
      id,
      definedKey: key,
      key,
      task: task as TaskDefinition,
      parents,
      children: [],
      args:
        typeof args === 'function'
          ? { from: args as (parents: unknown[]) => unknown }
          : { value: args as unknown },
      options: options as NodeOptions,
      failurePolicy:
        options.failurePolicy === undefined
          ? this.#failurePolicy
          : checkPolicy(this.key, options.failurePolicy),
      codec: task.codec ?? this.#options.codec ?? jsonCodec,
      ref: new GraphNodeRef(id, this.key, task as TaskDefinition, () => node.key),
      state: 'waiting',
    };
    for (const parent of parents) parent.children.push(node);
    this.#nodes.push(node);
    this.#byId.set(id, node);
    this.#keys.add(key);
    return node.ref as NodeRef<Result>;
  }

  /**
   * Runs the graph: creates its record, launches every node once its parents have
   * completed, and resolves with the results by node. Rejects `GraphFailedError` when a
   * node failed (under either policy), `CancelledError` when the graph was cancelled.
   * Calling it again returns the same promise.
   */
  run(): Promise<GraphResults> {
    this.#runner ??= this.#makeRunner({ resume: false });
    return this.#runner.start();
  }

  /** Cancels every node still pending or running; nodes not launched yet end `cancelled`. */
  async cancel(reason = 'the graph was cancelled'): Promise<boolean> {
    if (this.#runner === undefined) return false;
    return this.#runner.cancel(reason);
  }

  /** The nodes, in the order they were added. */
  get nodes(): readonly NodeRef[] {
    return this.#nodes.map((node) => node.ref);
  }

  /** The graph as a Mermaid flowchart, each node labelled with its id, task and current status. */
  toMermaid(): string {
    return toMermaid(this.#nodes);
  }

  /** The definition as the graph record keeps it in `meta.graph`. */
  toJSON(): PersistedGraph {
    return {
      version: 1,
      failurePolicy: this.#failurePolicy,
      nodes: this.#nodes.map((node) => ({
        id: node.id,
        task: node.task.name,
        key: node.definedKey,
        dependsOn: node.parents.map((parent) => parent.id),
        failurePolicy: node.failurePolicy,
        argsFrom: 'from' in node.args ? 'parents' : 'value',
      })),
    };
  }

  /**
   * Continues a graph whose orchestrating process died. The caller rebuilds the same
   * definition in `define`; it is checked against the one stored in the graph record.
   * `run()` on the returned graph reuses the results of nodes that completed, launches
   * only the nodes that had not, and (by default, for non-durable backends) launches
   * again the nodes the dead process left pending or running.
   */
  static async resume(
    store: TaskGraphOptions['store'],
    key: string,
    options: ResumeOptions,
  ): Promise<TaskGraph> {
    assertValidKey(key, 'workflow');
    checkOptions(`[workflow] TaskGraph.resume("${key}")`, options, RESUME_OPTIONS);
    const record = await store.get(key);
    if (record === undefined) {
      throw new GraphDefinitionError({
        graph: key,
        message: `there is no graph record under this key in store ${store.name} (expired, deleted, or never run)`,
      });
    }
    const stored = readPersistedGraph(record);
    if (stored === undefined) {
      throw new GraphDefinitionError({
        graph: key,
        message: `the record under this key is a computation of task "${record.task}", not a graph`,
      });
    }
    const { define, relaunchUnfinished, ...graphOptions } = options;
    const graph = new TaskGraph({
      ...graphOptions,
      failurePolicy: graphOptions.failurePolicy ?? stored.failurePolicy,
      store,
      key,
    });
    define(graph);
    graph.#assertSameDefinition(stored);
    graph.#runner = graph.#makeRunner({
      resume: true,
      relaunchUnfinished: relaunchUnfinished ?? !options.backend.capabilities.durable,
    });
    return graph;
  }

  // ---- private helpers ------------------------------------------------------------

  #makeRunner(mode: { resume: boolean; relaunchUnfinished?: boolean }): GraphRunner {
    return new GraphRunner({
      key: this.key,
      options: this.#options,
      nodes: this.#nodes,
      definition: this.toJSON(),
      resume: mode.resume,
      relaunchUnfinished: mode.relaunchUnfinished ?? false,
    });
  }

  #resolve(id: string, dependency: Dependency): GraphNode {
    if (typeof dependency === 'string') {
      if (dependency === id) throw this.#error(`node "${id}" cannot depend on itself: that is a cycle`);
      const node = this.#byId.get(dependency);
      if (node === undefined) {
        throw this.#error(
          `node "${id}" depends on "${dependency}", which is not in the graph: add a node before the nodes that depend on it (this is what keeps a graph free of cycles)`,
        );
      }
      return node;
    }
    if (!(dependency instanceof GraphNodeRef)) {
      throw this.#error(`node "${id}": dependsOn takes node references returned by add() or node ids`);
    }
    const node = this.#byId.get(dependency.id);
    if (node?.ref !== dependency) {
      throw this.#error(
        `node "${id}" depends on node "${dependency.id}" of another graph ("${dependency.graph}"): a node can depend only on nodes of its own graph`,
      );
    }
    return node;
  }

  #defaultId(taskName: string): string {
    const count = (this.#idCounts.get(taskName) ?? 0) + 1;
    this.#idCounts.set(taskName, count);
    let next = count;
    let id = next === 1 ? taskName : `${taskName}.${next}`;
    while (this.#byId.has(id)) {
      next += 1;
      id = `${taskName}.${next}`;
    }
    this.#idCounts.set(taskName, next);
    return id;
  }

  #assertSameDefinition(stored: PersistedGraph): void {
    const current = this.toJSON();
    const describe = (node: PersistedGraph['nodes'][number]) =>
      `"${node.id}" (task ${node.task}, key ${node.key}, after [${node.dependsOn.join(', ')}])`;
    const storedIds = new Set(stored.nodes.map((node) => node.id));
    for (const node of current.nodes) {
      if (!storedIds.has(node.id)) {
        throw this.#error(
          `resume: node "${node.id}" is not in the stored graph (stored nodes: ${stored.nodes
            .slice(0, 10)
            .map((each) => each.id)
            .join(', ')}…): define must add the same nodes with the same ids`,
        );
      }
    }
    const byId = new Map(current.nodes.map((node) => [node.id, node]));
    for (const node of stored.nodes) {
      const mine = byId.get(node.id);
      if (mine === undefined) {
        throw this.#error(`resume: define did not add stored node ${describe(node)}`);
      }
      if (
        mine.task !== node.task ||
        mine.key !== node.key ||
        mine.dependsOn.join() !== node.dependsOn.join()
      ) {
        throw this.#error(
          `resume: node ${describe(mine)} differs from the stored ${describe(node)}: define must rebuild the same graph`,
        );
      }
    }
  }

  #error(message: string): GraphDefinitionError {
    return new GraphDefinitionError({ graph: this.key, message });
  }
}

function checkPolicy(graph: string, policy: FailurePolicy): FailurePolicy {
  if (policy !== 'failFast' && policy !== 'continue') {
    throw new GraphDefinitionError({
      graph,
      message: `failurePolicy must be 'failFast' or 'continue', got ${JSON.stringify(policy)}`,
    });
  }
  return policy;
}
