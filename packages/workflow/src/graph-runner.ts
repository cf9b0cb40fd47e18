import { setMaxListeners } from 'node:events';
import {
  CancelledError,
  ComputationNotFoundError,
  type ComputationRecord,
  type ComputationStatus,
  type Invocation,
  isTerminalStatus,
  KeyExistsError,
  type LaunchOptions,
  NO_RETRY,
  silentLogger,
} from '@au/core';
import {
  cancelComputation,
  followRecord,
  type LaunchSettings,
  launchComputation,
  serializeError,
  toRetrySpec,
  waitForTerminal,
} from '@au/core/kit';
import { GraphDefinitionError } from './errors/graph-definition-error';
import { GraphFailedError, type GraphNodeFailure } from './errors/graph-failed-error';
import { type GraphNode, isSettled } from './graph-node';
import { GraphResults } from './graph-results';
import { GRAPH_TASK, type GraphProgress, type GraphSummary, type PersistedGraph } from './graph-state';
import type { TaskGraphOptions } from './task-graph-options';

export interface GraphRunnerOptions {
  key: string;
  options: TaskGraphOptions;
  nodes: readonly GraphNode[];
  definition: PersistedGraph;
  resume: boolean;
  relaunchUnfinished: boolean;
}

type Stop = { status: 'failed' | 'cancelled'; reason: string };

/** Least milliseconds between two progress writes to the graph record. */
const PROGRESS_INTERVAL = 50;

/**
 * Runs one graph in this process (internal): the orchestrator. It follows every
 * launched node's record until it ends, launches a child once all its parents have
 * completed, applies the failure policies, and keeps the graph record up to date.
 */
export class GraphRunner {
  /** Resolves once the graph record exists (handles wait for it). */
  created: Promise<void> | undefined;
  readonly #key: string;
  readonly #options: TaskGraphOptions;
  readonly #nodes: readonly GraphNode[];
  readonly #definition: PersistedGraph;
  readonly #resume: boolean;
  readonly #relaunchUnfinished: boolean;
  readonly #watching = new AbortController();
  readonly #writes = new Set<Promise<unknown>>();
  #promise: Promise<GraphResults> | undefined;
  #settled = 0;
  /** Ended nodes by status, kept as they end (progress is read without a scan). */
  readonly #endedBy = { completed: 0, failed: 0, cancelled: 0 };
  /** Store watches of nodes still followed; ended by `#finish` should any be left. */
  readonly #watches = new Set<AsyncIterator<ComputationRecord>>();
  #launching = 0;
  #stop: Stop | undefined;
  #finished = false;
  #done: (() => void) | undefined;
  #progressDirty = false;
  #progressTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: GraphRunnerOptions) {
    this.#key = options.key;
    this.#options = options.options;
    this.#nodes = options.nodes;
    this.#definition = options.definition;
    this.#resume = options.resume;
    this.#relaunchUnfinished = options.relaunchUnfinished;
    setMaxListeners(0, this.#watching.signal);
  }

  start(): Promise<GraphResults> {
    this.#promise ??= this.#run();
    return this.#promise;
  }

  async cancel(reason: string): Promise<boolean> {
    if (this.#finished || this.#promise === undefined) return false;
    await this.created;
    if (this.#finished) return false;
    const finishedAt = Date.now();
    const ttl = this.#options.ttl;
    await this.#options.store.update(
      this.#key,
      {
        status: 'cancelled',
        error: serializeError(new CancelledError({ key: this.#key, reason })),
        finishedAt,
        ...(ttl === undefined ? {} : { expiresAt: finishedAt + ttl * 1000 }),
      },
      { ifStatus: ['pending', 'running'] },
    );
    this.#stopAll({ status: 'cancelled', reason });
    return true;
  }

  // ---- the run ---------------------------------------------------------------------

  async #run(): Promise<GraphResults> {
    const allEnded = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    this.created = this.#resume ? this.#reopen() : this.#create();
    await this.created;
    this.#followGraphRecord();
    if (this.#resume) await this.#load();
    else for (const node of this.#nodes) if (node.parents.length === 0) void this.#launch(node);
    this.#checkDone();
    await allEnded;
    return this.#finish();
  }

  async #create(): Promise<void> {
    const now = Date.now();
    const record: ComputationRecord = {
      key: this.#key,
      task: GRAPH_TASK,
      status: 'running',
      attempt: 1,
      maxAttempts: 1,
      createdAt: now,
      startedAt: now,
      progress: this.#progress(),
      meta: {
        graph: this.#definition,
        ...(this.#options.meta === undefined ? {} : { user: this.#options.meta }),
      },
    };
    if (this.#options.ttl !== undefined) record.ttl = this.#options.ttl;
    try {
      await this.#options.store.create(record);
    } catch (error) {
      if (!KeyExistsError.isInstance(error)) throw error;
      throw new GraphDefinitionError({
        graph: this.#key,
        message: `a record with this key is already in store ${this.#options.store.name}: use TaskGraph.resume(store, key, { backend, define }) to continue that graph, or another key`,
      });
    }
  }

  async #reopen(): Promise<void> {
    const record = await this.#options.store.get(this.#key);
    if (record?.status === 'cancelled') {
      this.#stop = { status: 'cancelled', reason: reasonOf(record) ?? 'the graph was cancelled' };
    }
  }

  /** Resume: reads every node's record, reuses what ended, relaunches what the dead orchestrator left. */
  async #load(): Promise<void> {
    const records = await Promise.all(this.#nodes.map((node) => this.#options.store.get(node.key)));
    const unfinished: [GraphNode, ComputationRecord][] = [];
    this.#nodes.forEach((node, index) => {
      const record = records[index];
      if (record === undefined) return;
      if (record.status === 'pending' || record.status === 'running') unfinished.push([node, record]);
      else this.#record(node, record);
    });
    await Promise.all(
      unfinished.map(async ([node, record]) => {
        node.state = record.status;
        if (this.#relaunchUnfinished && this.#stop === undefined) await this.#relaunch(node, record);
        this.#watch(node);
      }),
    );
    if (this.#stop !== undefined) this.#stopAll(this.#stop, true);
    for (const node of this.#nodes) {
      if (node.state === 'failed') this.#afterFailure(node);
      else if (node.state === 'cancelled') this.#cancelDependents(node, `node "${node.id}" was cancelled`);
    }
    for (const node of this.#nodes) if (this.#isReady(node)) void this.#launch(node);
    this.#reportProgress();
  }

  async #relaunch(node: GraphNode, record: ComputationRecord): Promise<void> {
    const { store, backend } = this.#options;
    const reset = await store.update(
      node.key,
      { status: 'pending', startedAt: undefined },
      { ifStatus: ['pending', 'running'] },
    );
    if (reset === undefined) return;
    const settings = this.#settings(node);
    const invocation: Invocation = {
      key: node.key,
      task: node.task.name,
      args: record.args,
      priority: record.priority ?? 0,
      retry: toRetrySpec(settings.retry),
    };
    if (settings.timeout !== undefined) invocation.timeout = settings.timeout;
    if (settings.ttl !== undefined) invocation.ttl = settings.ttl;
    await backend.bind?.(store);
    backend.register?.({
      task: node.task,
      codec: node.codec,
      middleware: settings.middleware,
      retry: settings.retry,
      ...(settings.logger === undefined ? {} : { logger: settings.logger }),
    });
    try {
      await backend.launch(invocation);
    } catch (error) {
      await store.update(
        node.key,
        { status: 'failed', error: serializeError(error), finishedAt: Date.now() },
        { ifStatus: ['pending'] },
      );
    }
  }

  async #launch(node: GraphNode): Promise<void> {
    node.state = 'launching';
    this.#launching += 1;
    try {
      if (this.#stop !== undefined) {
        this.#settleUnlaunched(node, 'cancelled', this.#stop.reason);
        return;
      }
      let args: unknown;
      try {
        args =
          'value' in node.args ? node.args.value : await node.args.from(node.parents.map((p) => p.value));
      } catch (error) {
        this.#settleUnlaunched(node, 'failed', error);
        this.#afterFailure(node);
        return;
      }
      try {
        await launchComputation(node.task, args, this.#settings(node), this.#launchOptions(node));
      } catch (error) {
        // Refused before a record was written (invalid input, launch middleware): record it here.
        // Refused by the backend: launchComputation marked the record failed; the watch sees it.
        if ((await this.#options.store.get(node.key)) === undefined) {
          this.#settleUnlaunched(node, 'failed', error);
          this.#afterFailure(node);
          return;
        }
      }
      node.state = 'pending';
      this.#watch(node);
      const stop = this.#stop as Stop | undefined;
      if (stop !== undefined) this.#track(this.#cancelNode(node, stop.reason));
    } finally {
      this.#launching -= 1;
      this.#checkDone();
    }
  }

  #watch(node: GraphNode): void {
    this.#follow(node).then(
      (record) => this.#ended(node, record),
      (error: unknown) => {
        if (this.#watching.signal.aborted) return;
        this.#ended(node, {
          key: node.key,
          task: node.task.name,
          status: 'failed',
          error: serializeError(error),
          attempt: 0,
          maxAttempts: 1,
          createdAt: Date.now(),
        });
      },
    );
  }

  /**
   * Follows a node's record (its state shows `running` as it changes) until it ends:
   * one store watch per node, read directly (no async generator, no abort listener per
   * node: a watch ends with its record's terminal version, `#finish` ends any left).
   * Stores without `watch` are polled by `followRecord`.
   */
  async #follow(node: GraphNode): Promise<ComputationRecord> {
    const { store } = this.#options;
    if (store.watch === undefined || !store.capabilities.watch) return this.#poll(node);
    // Subscribe first, then read, so no change falls between the two.
    const changes = store.watch(node.key)[Symbol.asyncIterator]();
    this.#watches.add(changes);
    try {
      const current = await store.get(node.key);
      if (current === undefined) throw new ComputationNotFoundError({ key: node.key, store: store.name });
      if (isTerminalStatus(current.status)) return current;
      this.#observe(node, current);
      for (;;) {
        const change = await changes.next();
        if (change.done) break;
        if (isTerminalStatus(change.value.status)) return change.value;
        this.#observe(node, change.value);
      }
      this.#watching.signal.throwIfAborted();
      // The watch ended without a terminal version (the store closed): report what is there.
      const last = await store.get(node.key);
      if (last === undefined || !isTerminalStatus(last.status)) {
        throw new ComputationNotFoundError({ key: node.key, store: store.name });
      }
      return last;
    } finally {
      this.#watches.delete(changes);
      await changes.return?.();
    }
  }

  async #poll(node: GraphNode): Promise<ComputationRecord> {
    for await (const record of followRecord(this.#options.store, node.key, {
      signal: this.#watching.signal,
    })) {
      if (isTerminalStatus(record.status)) return record;
      this.#observe(node, record);
    }
    throw new ComputationNotFoundError({ key: node.key, store: this.#options.store.name });
  }

  #observe(node: GraphNode, record: ComputationRecord): void {
    if (!isSettled(node)) node.state = record.status;
  }

  #ended(node: GraphNode, record: ComputationRecord): void {
    if (isSettled(node)) return;
    this.#record(node, record);
    if (node.state === 'completed') {
      for (const child of node.children) if (this.#isReady(child)) void this.#launch(child);
    } else if (node.state === 'failed') this.#afterFailure(node);
    else this.#cancelDependents(node, `node "${node.id}" was cancelled`);
    this.#reportProgress();
    this.#checkDone();
  }

  /** Takes a terminal record's outcome into the node. */
  #record(node: GraphNode, record: ComputationRecord): void {
    node.state = record.status;
    if (record.status === 'completed') {
      try {
        node.value = node.codec.decode(record.value);
      } catch (error) {
        node.state = 'failed';
        node.error = serializeError(error);
      }
    } else if (record.error !== undefined) node.error = record.error;
    this.#countSettled(node);
  }

  #afterFailure(node: GraphNode): void {
    if (node.failurePolicy === 'failFast') {
      this.#stopAll({
        status: 'failed',
        reason: `node "${node.id}" failed and its failure policy is failFast`,
      });
    } else this.#cancelDependents(node, `node "${node.id}" it depends on failed`);
  }

  /** Every node downstream of `node` that has not started ends `cancelled` with the reason. */
  #cancelDependents(node: GraphNode, reason: string): void {
    const queue = [...node.children];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (next.state !== 'waiting') continue;
      this.#settleUnlaunched(next, 'cancelled', reason);
      queue.push(...next.children);
    }
  }

  #stopAll(stop: Stop, force = false): void {
    if (this.#stop !== undefined && !force) return;
    this.#stop = stop;
    for (const node of this.#nodes) {
      if (node.state === 'waiting') this.#settleUnlaunched(node, 'cancelled', stop.reason);
      else if (node.state === 'pending' || node.state === 'running') {
        this.#track(this.#cancelNode(node, stop.reason));
      }
    }
    this.#reportProgress();
    this.#checkDone();
  }

  #cancelNode(node: GraphNode, reason: string): Promise<boolean> {
    const { store, backend, logger } = this.#options;
    return cancelComputation({ store, backend, key: node.key, reason, ...(logger ? { logger } : {}) });
  }

  /** A node that never ran ends now: its record is written so it is readable by key. */
  #settleUnlaunched(node: GraphNode, status: 'failed' | 'cancelled', cause: unknown): void {
    const error =
      status === 'cancelled'
        ? serializeError(new CancelledError({ key: node.key, reason: String(cause) }))
        : serializeError(cause);
    node.state = status;
    node.error = error;
    this.#countSettled(node);
    const finishedAt = Date.now();
    const ttl = this.#options.ttl ?? node.task.ttl;
    const record: ComputationRecord = {
      key: node.key,
      task: node.task.name,
      status,
      error,
      attempt: 0,
      maxAttempts: 1,
      createdAt: finishedAt,
      finishedAt,
      parent: this.#key,
      meta: { node: node.id },
    };
    if (ttl !== undefined) {
      record.ttl = ttl;
      record.expiresAt = finishedAt + ttl * 1000;
    }
    const { store } = this.#options;
    this.#track(
      store.create(record).catch(async (createError: unknown) => {
        if (KeyExistsError.isInstance(createError)) await this.#cancelNode(node, String(cause));
        else throw createError;
      }),
    );
    this.#reportProgress();
  }

  /** Follows the graph record: a cancel written by anyone (a handle elsewhere, HTTP) stops the graph. */
  #followGraphRecord(): void {
    waitForTerminal(this.#options.store, this.#key, { signal: this.#watching.signal }).then(
      (record) => {
        if (record.status === 'cancelled' && !this.#finished) {
          this.#stopAll({ status: 'cancelled', reason: reasonOf(record) ?? 'the graph was cancelled' });
        }
      },
      () => undefined,
    );
  }

  async #finish(): Promise<GraphResults> {
    this.#finished = true;
    this.#watching.abort();
    // Every node has ended, so its watch has too; end any a store left open all the same.
    for (const changes of this.#watches) void changes.return?.()?.catch(() => undefined);
    this.#watches.clear();
    clearTimeout(this.#progressTimer);
    await this.#flushWrites();
    const { store } = this.#options;
    const byId: Record<string, unknown> = {};
    const failures: GraphNodeFailure[] = [];
    const summary: GraphSummary = { status: 'completed', nodes: {} };
    for (const node of this.#nodes) {
      summary.nodes[node.id] = { key: node.key, status: node.state as ComputationStatus };
      if (node.state === 'completed') byId[node.id] = node.value;
      else failures.push({ node: node.id, key: node.key, status: node.state as 'failed', error: node.error });
    }
    const status: ComputationStatus =
      this.#stop?.status === 'cancelled'
        ? 'cancelled'
        : failures.some((failure) => failure.status === 'failed')
          ? 'failed'
          : failures.length > 0
            ? 'cancelled'
            : 'completed';
    summary.status = status;
    const finishedAt = Date.now();
    const ttl = this.#options.ttl;
    const expiry = ttl === undefined ? {} : { expiresAt: finishedAt + ttl * 1000 };
    const progress = this.#progress();
    let error: Error | undefined;
    if (status === 'failed') error = new GraphFailedError({ graph: this.#key, failures, results: byId });
    if (status === 'cancelled') {
      error = new CancelledError({
        key: this.#key,
        reason: this.#stop?.reason ?? `node(s) ${failures.map((f) => `"${f.node}"`).join(', ')} cancelled`,
      });
    }
    const ended = await store.update(
      this.#key,
      error === undefined
        ? { status, value: summary, progress, finishedAt, ...expiry }
        : { status, error: serializeError(error), progress, finishedAt, ...expiry },
      { ifStatus: ['pending', 'running'] },
    );
    if (ended === undefined) await store.update(this.#key, { progress }).catch(() => undefined);
    if (error !== undefined) throw error;
    return new GraphResults(byId);
  }

  // ---- helpers ---------------------------------------------------------------------

  #isReady(node: GraphNode): boolean {
    return node.state === 'waiting' && node.parents.every((parent) => parent.state === 'completed');
  }

  #settings(node: GraphNode): LaunchSettings {
    const { store, backend, ttl, middleware, logger } = this.#options;
    const settings: LaunchSettings = {
      store,
      backend,
      codec: node.codec,
      retry: node.options.retry ?? node.task.retry ?? NO_RETRY,
      middleware: middleware ?? [],
    };
    const timeout = node.options.timeout ?? node.task.timeout;
    if (timeout !== undefined) settings.timeout = timeout;
    const nodeTtl = ttl ?? node.task.ttl;
    if (nodeTtl !== undefined) settings.ttl = nodeTtl;
    if (logger !== undefined) settings.logger = logger;
    return settings;
  }

  #launchOptions(node: GraphNode): LaunchOptions {
    const options: LaunchOptions = { key: node.key, parent: this.#key, meta: { node: node.id } };
    if (node.options.priority !== undefined) options.priority = node.options.priority;
    if (node.options.tags !== undefined) options.tags = node.options.tags;
    return options;
  }

  #progress(): GraphProgress {
    const { completed, failed, cancelled } = this.#endedBy;
    return { done: this.#settled, total: this.#nodes.length, completed, failed, cancelled };
  }

  /** Counts a node that has just ended (its state is final: a settled node never changes). */
  #countSettled(node: GraphNode): void {
    this.#endedBy[node.state as 'completed' | 'failed' | 'cancelled'] += 1;
    this.#settled += 1;
  }

  /**
   * Writes the progress to the graph record, at most every `PROGRESS_INTERVAL` ms (the
   * last change is always written; `#finish` writes the final count with the status).
   */
  #reportProgress(): void {
    this.#progressDirty = true;
    if (this.#progressTimer !== undefined || this.created === undefined || this.#finished) return;
    this.#progressTimer = setTimeout(() => {
      this.#progressTimer = undefined;
      if (!this.#progressDirty || this.#finished) return;
      this.#progressDirty = false;
      this.#track(this.#options.store.update(this.#key, { progress: this.#progress() }));
    }, PROGRESS_INTERVAL);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) =>
      (this.#options.logger ?? silentLogger).warn(
        { err: error, key: this.#key },
        '[au] [workflow] store write failed',
      ),
    );
    this.#writes.add(tracked);
    void tracked.finally(() => this.#writes.delete(tracked));
  }

  async #flushWrites(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  #checkDone(): void {
    if (this.#settled === this.#nodes.length && this.#launching === 0) this.#done?.();
  }
}

function reasonOf(record: ComputationRecord): string | undefined {
  return record.error?.message.replace(/^\[au\] computation "[^"]*" was cancelled:? ?/, '') || undefined;
}
