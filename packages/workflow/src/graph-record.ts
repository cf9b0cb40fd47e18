import {
  CancelledError,
  type Clock,
  type ComputationRecord,
  type ComputationStore,
  KeyExistsError,
  type TaskLogger,
  type TimerHandle,
} from '@au/core';
import {
  claimComputation,
  completeComputation,
  failComputation,
  type LifecycleOptions,
  recordCancelled,
  waitForTerminal,
} from '@au/core/kit';
import type { BackgroundWrites } from './background-writes';
import { GraphDefinitionError } from './errors/graph-definition-error';
import type { GraphOutcome, GraphStop } from './failure-policy';
import type { NodeState } from './graph-node';
import {
  GRAPH_TASK,
  type GraphProgress,
  type PersistedGraph,
  type RelaunchedKeys,
  readRelaunchedKeys,
} from './graph-state';

export interface GraphRecordOptions {
  key: string;
  store: ComputationStore;
  definition: PersistedGraph;
  /** Free data kept in `meta.user`. */
  userMeta?: Record<string, unknown>;
  /** Seconds the record is kept once the graph ended. */
  ttl?: number;
  /** Nodes in the graph. */
  total: number;
  clock: Clock;
  logger?: TaskLogger;
  writes: BackgroundWrites;
}

/** Least milliseconds between two progress writes to the graph record. */
const PROGRESS_INTERVAL = 50;

/**
 * The graph's own record (internal): task `au:graph`, the definition in `meta.graph`,
 * relaunched nodes' keys in `meta.relaunches`, the progress, and the graph's status,
 * changed only through core's lifecycle operations (claimed when the run starts,
 * then completed, failed or cancelled).
 */
export class GraphRecord {
  readonly key: string;
  readonly #options: GraphRecordOptions;
  readonly #lifecycle: LifecycleOptions;
  #meta: Record<string, unknown> = {};
  #relaunches: RelaunchedKeys = {};
  #metaWrites: Promise<void> = Promise.resolve();
  /** Ended nodes by status, counted as they end (progress is read without a scan). */
  readonly #endedBy = { completed: 0, failed: 0, cancelled: 0 };
  #open = false;
  #progressDirty = false;
  #progressTimer: TimerHandle | undefined;

  constructor(options: GraphRecordOptions) {
    this.key = options.key;
    this.#options = options;
    this.#lifecycle = { clock: options.clock, ...(options.logger ? { logger: options.logger } : {}) };
  }

  /** Writes the record of a new graph: created `pending`, then claimed `running` by this run. */
  async create(): Promise<void> {
    const { store, definition, userMeta, ttl, clock } = this.#options;
    this.#meta = { graph: definition, ...(userMeta === undefined ? {} : { user: userMeta }) };
    const now = clock.now();
    const record: ComputationRecord = {
      key: this.key,
      task: GRAPH_TASK,
      status: 'pending',
      attempt: 0,
      maxAttempts: 1,
      createdAt: now,
      progress: this.progress(),
      meta: this.#meta,
    };
    if (ttl !== undefined) record.ttl = ttl;
    try {
      await store.create(record);
    } catch (error) {
      if (!KeyExistsError.isInstance(error)) throw error;
      throw new GraphDefinitionError({
        graph: this.key,
        message: `a record with this key is already in store ${store.name}: use TaskGraph.resume(store, key, { backend, define }) to continue that graph, or another key`,
      });
    }
    // Not claimed only when a cancel by key came first: following the record stops the run.
    await claimComputation(store, this.key, { now }, this.#lifecycle);
    this.#open = true;
  }

  /** Reads the record a previous run left: its relaunched keys, and the stop when it was cancelled. */
  async reopen(): Promise<GraphStop | undefined> {
    const record = await this.#options.store.get(this.key);
    this.#meta = { ...record?.meta };
    this.#relaunches = record === undefined ? {} : readRelaunchedKeys(record);
    this.#open = true;
    return record?.status === 'cancelled' ? { status: 'cancelled', reason: cancelReason(record) } : undefined;
  }

  /** Keys of the nodes that a resume launched again, by node id (the current one last). */
  get relaunches(): Readonly<RelaunchedKeys> {
    return this.#relaunches;
  }

  /**
   * Records new current keys of nodes (node id → key) before their computations are
   * launched, so a run that dies right after still finds them.
   */
  addRelaunches(keys: ReadonlyMap<string, string>): Promise<void> {
    return this.#changeRelaunches((next) => {
      for (const [id, key] of keys) next[id] = [...(next[id] ?? []), key];
    });
  }

  /** Takes back a node's newest key: its earlier computation ended on its own after all. */
  dropRelaunch(id: string): Promise<void> {
    return this.#changeRelaunches((next) => {
      const keys = next[id]?.slice(0, -1) ?? [];
      if (keys.length > 0) next[id] = keys;
      else delete next[id];
    });
  }

  /** Counts a node that has just ended (its state is final: a settled node never changes). */
  countEnded(state: NodeState): void {
    this.#endedBy[state as 'completed' | 'failed' | 'cancelled'] += 1;
  }

  /** Nodes that have ended. */
  get done(): number {
    const { completed, failed, cancelled } = this.#endedBy;
    return completed + failed + cancelled;
  }

  progress(): GraphProgress {
    return { done: this.done, total: this.#options.total, ...this.#endedBy };
  }

  /**
   * Writes the progress to the record, at most every `PROGRESS_INTERVAL` ms on the run's
   * clock (the last change is always written; `end` writes the final count with the status).
   */
  reportProgress(): void {
    this.#progressDirty = true;
    if (this.#progressTimer !== undefined || !this.#open) return;
    this.#progressTimer = this.#options.clock.setTimeout(() => {
      this.#progressTimer = undefined;
      if (!this.#progressDirty || !this.#open) return;
      this.#progressDirty = false;
      this.#options.writes.track(this.#options.store.update(this.key, { progress: this.progress() }));
    }, PROGRESS_INTERVAL);
  }

  /** Marks the graph `cancelled` with the reason, unless it has already ended. */
  async cancel(reason: string): Promise<void> {
    const { store, ttl, clock, logger } = this.#options;
    await recordCancelled({
      store,
      key: this.key,
      error: new CancelledError({ key: this.key, reason }),
      ttl,
      clock,
      ...(logger ? { logger } : {}),
    });
  }

  /** Calls `onCancel` with the reason when the record is cancelled by anyone (a handle elsewhere, HTTP). */
  onCancelled(signal: AbortSignal, onCancel: (reason: string) => void): void {
    waitForTerminal(this.#options.store, this.key, { signal, clock: this.#options.clock }).then(
      (record) => {
        if (record.status === 'cancelled') onCancel(cancelReason(record));
      },
      () => undefined,
    );
  }

  /**
   * Ends the record with the graph's outcome and the final progress. A record that had
   * already ended (cancelled by key, or a resumed graph that had finished) keeps its
   * status and gets the final progress only.
   */
  async end(outcome: GraphOutcome): Promise<void> {
    this.stopReporting();
    const { store, ttl, clock, logger } = this.#options;
    const finishedAt = clock.now();
    const progress = this.progress();
    const ending = { finishedAt, ttl: ttl ?? null, progress: { value: progress } };
    let ended: ComputationRecord | undefined;
    if (outcome.error === undefined) {
      ended = await completeComputation(
        store,
        this.key,
        { ...ending, value: outcome.summary },
        this.#lifecycle,
      );
    } else if (outcome.status === 'failed') {
      ended = await failComputation(store, this.key, { ...ending, error: outcome.error }, this.#lifecycle);
    } else {
      ended = await recordCancelled({
        store,
        key: this.key,
        error: outcome.error as CancelledError,
        ttl,
        finishedAt,
        clock,
        patch: { progress },
        retry: {},
        ...(logger ? { logger } : {}),
      });
    }
    if (ended === undefined) await store.update(this.key, { progress }).catch(() => undefined);
  }

  /** No more progress writes (the run has ended). */
  stopReporting(): void {
    this.#open = false;
    this.#options.clock.clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
  }

  /** One change of `meta.relaunches` after another: each starts from what the one before wrote. */
  #changeRelaunches(change: (next: RelaunchedKeys) => void): Promise<void> {
    const write = this.#metaWrites.then(async () => {
      const next: RelaunchedKeys = { ...this.#relaunches };
      change(next);
      const meta = { ...this.#meta, relaunches: next };
      await this.#options.store.update(this.key, { meta });
      this.#meta = meta;
      this.#relaunches = next;
    });
    this.#metaWrites = write.catch(() => undefined);
    return write;
  }
}

/** The reason a cancelled graph record gives, from its error's structured field. */
function cancelReason(record: ComputationRecord): string {
  return record.error?.reason ?? 'the graph was cancelled';
}
