import {
  CancelledError,
  type Clock,
  type ComputationRecord,
  isTerminalStatus,
  KeyExistsError,
  systemClock,
} from '@au/core';
import { cancelComputation, failComputation, launchComputation, serializeError } from '@au/core/kit';
import { BackgroundWrites } from './background-writes';
import { consequenceOf, type GraphStop, graphOutcome, type NodeConsequence } from './failure-policy';
import { type GraphNode, isSettled } from './graph-node';
import { GraphRecord } from './graph-record';
import { GraphResults } from './graph-results';
import type { PersistedGraph } from './graph-state';
import { nodeLaunchOptions, nodeLaunchSettings, relaunchKey, unlaunchedRecord } from './node-computation';
import { NodeFollower } from './node-follower';
import type { TaskGraphOptions } from './task-graph-options';

export interface GraphRunnerOptions {
  key: string;
  options: TaskGraphOptions;
  nodes: readonly GraphNode[];
  definition: PersistedGraph;
  resume: boolean;
  relaunchUnfinished: boolean;
}

/**
 * Runs one graph in this process (internal): the orchestrator. It launches a node once
 * all its parents have completed, follows every launched node's record until it ends,
 * and carries out what the failure policies decide (`failure-policy.ts`); the graph's
 * own record is kept by `GraphRecord`.
 */
export class GraphRunner {
  /** Resolves once the graph record exists (handles wait for it). */
  created: Promise<void> | undefined;
  readonly #key: string;
  readonly #options: TaskGraphOptions;
  readonly #nodes: readonly GraphNode[];
  readonly #resume: boolean;
  readonly #relaunchUnfinished: boolean;
  readonly #clock: Clock;
  readonly #writes: BackgroundWrites;
  readonly #record: GraphRecord;
  readonly #follower: NodeFollower;
  readonly #runEnded = new AbortController();
  #promise: Promise<GraphResults> | undefined;
  #launching = 0;
  #stop: GraphStop | undefined;
  #finished = false;
  #done: (() => void) | undefined;

  constructor(options: GraphRunnerOptions) {
    this.#key = options.key;
    this.#options = options.options;
    this.#nodes = options.nodes;
    this.#resume = options.resume;
    this.#relaunchUnfinished = options.relaunchUnfinished;
    this.#clock = options.options.clock ?? systemClock;
    const { store, ttl, meta, logger } = options.options;
    this.#writes = new BackgroundWrites(this.#key, logger);
    this.#record = new GraphRecord({
      key: this.#key,
      store,
      definition: options.definition,
      total: this.#nodes.length,
      clock: this.#clock,
      writes: this.#writes,
      ...(meta === undefined ? {} : { userMeta: meta }),
      ...(ttl === undefined ? {} : { ttl }),
      ...(logger === undefined ? {} : { logger }),
    });
    this.#follower = new NodeFollower(store, this.#clock);
  }

  start(): Promise<GraphResults> {
    this.#promise ??= this.#run();
    return this.#promise;
  }

  async cancel(reason: string): Promise<boolean> {
    if (this.#finished || this.#promise === undefined) return false;
    await this.created;
    if (this.#finished) return false;
    await this.#record.cancel(reason);
    this.#stopAll({ status: 'cancelled', reason });
    return true;
  }

  // ---- the run ---------------------------------------------------------------------

  async #run(): Promise<GraphResults> {
    const allEnded = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    this.created = this.#resume ? this.#reopen() : this.#record.create();
    try {
      await this.created;
      // A cancel written by anyone (a handle elsewhere, HTTP) stops the graph.
      this.#record.onCancelled(this.#runEnded.signal, (reason) => {
        if (!this.#finished) this.#stopAll({ status: 'cancelled', reason });
      });
      if (this.#resume) await this.#load();
      else for (const node of this.#nodes) if (node.parents.length === 0) void this.#launch(node);
    } catch (error) {
      // The store failed for good before the run got going: stop following and reporting.
      this.#close();
      throw error;
    }
    this.#checkDone();
    await allEnded;
    return this.#finish();
  }

  async #reopen(): Promise<void> {
    this.#stop = await this.#record.reopen();
    const relaunches = this.#record.relaunches;
    for (const node of this.#nodes) node.key = relaunches[node.id]?.at(-1) ?? node.definedKey;
  }

  /** Resume: reads every node's record, reuses what ended, relaunches or follows what the dead orchestrator left. */
  async #load(): Promise<void> {
    const { store } = this.#options;
    this.#cancelSuperseded();
    const records = await Promise.all(this.#nodes.map((node) => store.get(node.key)));
    const unfinished: [GraphNode, ComputationRecord][] = [];
    this.#nodes.forEach((node, index) => {
      const record = records[index];
      if (record === undefined) return;
      if (isTerminalStatus(record.status)) this.#takeOutcome(node, record);
      else {
        node.state = record.status;
        unfinished.push([node, record]);
      }
    });
    if (this.#relaunchUnfinished && this.#stop === undefined) await this.#relaunch(unfinished);
    else for (const [node] of unfinished) this.#follow(node);
    if (this.#stop !== undefined) this.#stopAll(this.#stop, true);
    for (const node of this.#nodes) if (isSettled(node)) this.#apply(consequenceOf(node));
    for (const node of this.#nodes) if (this.#isReady(node)) void this.#launch(node);
    this.#record.reportProgress();
  }

  /**
   * Launches again, each as a fresh computation, the nodes whose work died with the old
   * orchestrator. Their new keys are written to the graph record first, so a run that
   * dies in between still finds them; then each old record is cancelled (its reason
   * names the new key) and the node is launched with the args its old record kept.
   */
  async #relaunch(unfinished: readonly [GraphNode, ComputationRecord][]): Promise<void> {
    if (unfinished.length === 0) return;
    const taken = new Set(this.#nodes.flatMap((node) => [node.definedKey, node.key]));
    const keys = new Map<string, string>();
    for (const [node] of unfinished) {
      const key = relaunchKey(node, (this.#record.relaunches[node.id]?.length ?? 0) + 2, taken);
      taken.add(key);
      keys.set(node.id, key);
    }
    await this.#record.addRelaunches(keys);
    await Promise.all(unfinished.map(([node, old]) => this.#relaunchNode(node, old, keys.get(node.id)!)));
  }

  async #relaunchNode(node: GraphNode, old: ComputationRecord, key: string): Promise<void> {
    const { store } = this.#options;
    const reason = `the orchestrator of graph "${this.#key}" stopped before node "${node.id}" ended; resume launched it again as "${key}"`;
    if (!(await this.#cancelKey(old.key, reason))) {
      const now = await store.get(old.key);
      if (now !== undefined && isTerminalStatus(now.status)) {
        // It ended on its own meanwhile (its worker was alive after all): keep that outcome.
        await this.#record.dropRelaunch(node.id);
        this.#takeOutcome(node, now);
        return;
      }
    }
    node.key = key;
    await this.#launchComputation(node, node.codec.decode(old.args), { relaunchOf: old.key });
  }

  /** Cancels what a previous resume left running under a node's older keys (it died between two steps). */
  #cancelSuperseded(): void {
    for (const node of this.#nodes) {
      const keys = this.#record.relaunches[node.id];
      if (keys === undefined) continue;
      for (const earlier of [node.definedKey, ...keys.slice(0, -1)]) {
        this.#writes.track(this.#cancelKey(earlier, `node "${node.id}" now runs as "${node.key}"`));
      }
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
        this.#apply(consequenceOf(node));
        return;
      }
      await this.#launchComputation(node, args);
    } catch (error) {
      // The store failed for good while the launch was checked: the node's outcome is unknown.
      if (!isSettled(node)) {
        this.#settle(node, 'failed', serializeError(error));
        this.#apply(consequenceOf(node));
      }
    } finally {
      this.#launching -= 1;
      this.#checkDone();
    }
  }

  /** Launches the node's computation under its current key (core's launch), then follows it. */
  async #launchComputation(node: GraphNode, args: unknown, meta?: Record<string, unknown>): Promise<void> {
    try {
      await launchComputation(
        node.task,
        args,
        nodeLaunchSettings(node, this.#options, this.#clock),
        nodeLaunchOptions(node, this.#key, meta),
      );
    } catch (error) {
      // Refused before a record was written (invalid input, launch middleware): record it here.
      // Refused by the backend: launchComputation marked the record failed; following it sees that.
      if ((await this.#options.store.get(node.key)) === undefined) {
        this.#settleUnlaunched(node, 'failed', error);
        this.#apply(consequenceOf(node));
        return;
      }
    }
    node.state = 'pending';
    this.#follow(node);
    const stop = this.#stop as GraphStop | undefined;
    if (stop !== undefined) this.#writes.track(this.#cancelKey(node.key, stop.reason));
  }

  #follow(node: GraphNode): void {
    this.#follower
      .follow(node.key, (record) => {
        if (!isSettled(node)) node.state = record.status;
      })
      .then(
        (record) => {
          if (isSettled(node)) return;
          this.#takeOutcome(node, record);
          this.#nodeEnded(node);
        },
        (error: unknown) => {
          if (this.#follower.closed || isSettled(node)) return;
          // The record vanished or the store failed for good: the graph cannot learn the outcome.
          this.#settle(node, 'failed', serializeError(error));
          this.#nodeEnded(node);
        },
      );
  }

  #nodeEnded(node: GraphNode): void {
    if (node.state === 'completed') {
      for (const child of node.children) if (this.#isReady(child)) void this.#launch(child);
    } else this.#apply(consequenceOf(node));
    this.#record.reportProgress();
    this.#checkDone();
  }

  /** Takes a terminal record's outcome into the node. */
  #takeOutcome(node: GraphNode, record: ComputationRecord): void {
    if (record.status !== 'completed') {
      this.#settle(node, record.status, record.error);
      return;
    }
    try {
      node.value = node.codec.decode(record.value);
    } catch (error) {
      this.#settle(node, 'failed', serializeError(error));
      return;
    }
    this.#settle(node, 'completed', undefined);
  }

  /** The node's final state, counted once. */
  #settle(node: GraphNode, state: ComputationRecord['status'], error: GraphNode['error']): void {
    node.state = state;
    if (error !== undefined) node.error = error;
    this.#record.countEnded(state);
  }

  #apply(consequence: NodeConsequence): void {
    if (consequence.kind === 'stop') this.#stopAll(consequence.stop);
    else if (consequence.kind === 'cancel') {
      for (const node of consequence.nodes) this.#settleUnlaunched(node, 'cancelled', consequence.reason);
    }
  }

  #stopAll(stop: GraphStop, force = false): void {
    if (this.#stop !== undefined && !force) return;
    this.#stop = stop;
    for (const node of this.#nodes) {
      if (node.state === 'waiting') this.#settleUnlaunched(node, 'cancelled', stop.reason);
      else if (node.state === 'pending' || node.state === 'running') {
        this.#writes.track(this.#cancelKey(node.key, stop.reason));
      }
    }
    this.#record.reportProgress();
    this.#checkDone();
  }

  #cancelKey(key: string, reason: string): Promise<boolean> {
    const { store, backend, logger } = this.#options;
    return cancelComputation({
      store,
      backend,
      key,
      reason,
      clock: this.#clock,
      ...(logger ? { logger } : {}),
    });
  }

  /** A node that never ran ends now: its record is written so it is readable by key. */
  #settleUnlaunched(node: GraphNode, status: 'failed' | 'cancelled', cause: unknown): void {
    const error =
      status === 'cancelled'
        ? serializeError(new CancelledError({ key: node.key, reason: String(cause) }))
        : serializeError(cause);
    this.#settle(node, status, error);
    const { store } = this.#options;
    const finishedAt = this.#clock.now();
    const record = unlaunchedRecord(node, this.#key, {
      status,
      error,
      finishedAt,
      ttl: this.#options.ttl ?? node.task.ttl,
    });
    this.#writes.track(
      store.create(record).catch(async (createError: unknown) => {
        if (!KeyExistsError.isInstance(createError)) throw createError;
        // A record is there already (another orchestrator launched it): end it the same way.
        if (status === 'cancelled') await this.#cancelKey(node.key, String(cause));
        else {
          await failComputation(
            store,
            node.key,
            { error: cause, from: 'active', finishedAt },
            { clock: this.#clock },
          );
        }
      }),
    );
    this.#record.reportProgress();
  }

  async #finish(): Promise<GraphResults> {
    // Every node has ended, so its watch has too; end any a store left open all the same.
    this.#close();
    await this.#writes.flush();
    const outcome = graphOutcome(this.#key, this.#nodes, this.#stop);
    await this.#record.end(outcome);
    if (outcome.error !== undefined) throw outcome.error;
    return new GraphResults(outcome.results);
  }

  // ---- helpers ---------------------------------------------------------------------

  #close(): void {
    this.#finished = true;
    this.#runEnded.abort();
    this.#follower.close();
    this.#record.stopReporting();
  }

  #isReady(node: GraphNode): boolean {
    return node.state === 'waiting' && node.parents.every((parent) => parent.state === 'completed');
  }

  #checkDone(): void {
    if (this.#record.done === this.#nodes.length && this.#launching === 0) this.#done?.();
  }
}
