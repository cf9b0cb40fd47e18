import type { ConcurrencyGroup, RateLimitGroup, TaskDefinition, TaskLogger } from '@au/core';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ACQUIRE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './flow-scripts';
import type { JobData } from './job-options';

/** The limits a job runs under: its launch's groups (or, for jobs that carry none, its task's). */
export interface FlowGroups {
  concurrency?: ConcurrencyGroup;
  rateLimit?: RateLimitGroup;
}

export interface FlowGateSettings {
  redis: Redis;
  prefix: string;
  queue: string;
  /**
   * Ms a slot lasts without renewal: the worker's lock duration, so that a dead worker's
   * slots free about when BullMQ hands its jobs to another worker.
   */
  lease: number;
  /** Where waiters handed a slot are promoted (delayed → waiting). */
  jobs: Queue<JobData>;
  logger: TaskLogger;
}

/** What `enter` decided. */
export type FlowEntry =
  | {
      kind: 'run';
      /** The start's time (Redis clock, ms). */
      at: number;
      /** Ends the slot (when the job held one); never rejects. */
      release(): Promise<void>;
    }
  /**
   * The group's slots are all held: the job waits in the group's list until a release
   * hands it a slot and promotes it; `delay` is its safety wake-up.
   */
  | { kind: 'park'; delay: number }
  /** Over the rate limit: the window has room in `delay` ms. */
  | { kind: 'rate'; delay: number };

/**
 * The longest the first `limit` waiters of a group sleep before they ask again: a slot
 * freed by a lease expiry (a dead worker) wakes nobody, so they look for one.
 */
export const MAX_PARK_DELAY = 5000;
const MIN_PARK_DELAY = 250;
/** The safety wake-up of the waiters behind them, which a release promotes in turn. */
export const FAR_PARK_DELAY = 30_000;

interface ScriptCommands {
  auFlowAcquire(...args: (string | number)[]): Promise<[number, number, string[]]>;
  auFlowRelease(...args: (string | number)[]): Promise<string[]>;
  auFlowRenew(...args: (string | number)[]): Promise<number>;
}

/**
 * Concurrency keys and rate limits of one queue, enforced in Redis for every worker.
 *
 * A job that may not start yet never claims its record (it stays `pending`): over the
 * rate limit it is delayed until the window has room; in a full group it is parked
 * (delayed) in the group's waiting list, ordered by BullMQ priority then arrival, and
 * the worker that frees a slot hands it to the best waiter (reserved for one lease) and
 * promotes that job at once. Parked jobs also wake on their own every few seconds, so a
 * slot freed by a lease expiry (a dead worker) is found without any release.
 */
export class FlowGate {
  readonly #settings: FlowGateSettings;
  readonly #redis: Redis & ScriptCommands;
  readonly #jobKeyPrefix: string;

  constructor(settings: FlowGateSettings) {
    this.#settings = settings;
    this.#redis = defineScripts(settings.redis);
    this.#jobKeyPrefix = `${settings.prefix}:${settings.queue}:`;
  }

  /** Asks to start `job` under `groups`. Rejects only when Redis cannot answer. */
  async enter(job: Job<JobData>, groups: FlowGroups): Promise<FlowEntry> {
    const { concurrency, rateLimit } = groups;
    const jobId = job.id!;
    const keys = this.#keys(concurrency?.key);
    const [code, value, promoted] = await this.#redis.auFlowAcquire(
      keys.slots,
      keys.waiting,
      keys.seq,
      rateLimit === undefined ? keys.seq : flowKey(this.#settings, 'rate', rateLimit.key),
      rateLimit === undefined ? keys.seq : flowKey(this.#settings, 'rate-waiting', rateLimit.key),
      jobId,
      concurrency?.limit ?? 0,
      this.#settings.lease,
      job.opts.priority ?? 0,
      rateLimit?.limit ?? 0,
      rateLimit?.interval ?? 0,
      `${jobId}:${job.attemptsStarted}:${Math.random().toString(36).slice(2, 10)}`,
      this.#jobKeyPrefix,
    );
    this.#promote(promoted);
    if (code === 3) return { kind: 'rate', delay: value };
    if (code === 2) return { kind: 'park', delay: this.#parkDelay(value, concurrency!.limit) };
    if (concurrency === undefined) return { kind: 'run', at: value, release: async () => undefined };
    return { kind: 'run', at: value, release: this.#hold(jobId, concurrency) };
  }

  /**
   * After a parked job was moved to delayed: a release may have handed it a slot in
   * between, when it could not be promoted yet. Then it is promoted now.
   */
  async parked(job: Job<JobData>, groups: FlowGroups): Promise<void> {
    if (groups.concurrency === undefined) return;
    // Unanswered, the job wakes up on its own after its park delay and finds its slot.
    const holds = await this.#redis
      .zscore(this.#keys(groups.concurrency.key).slots, job.id!)
      .catch(() => null);
    if (holds !== null) this.#promote([job.id!]);
  }

  /** Keeps the slot of a running job alive (every half lease); returns its release. */
  #hold(jobId: string, group: ConcurrencyGroup): () => Promise<void> {
    const keys = this.#keys(group.key);
    const { lease, logger } = this.#settings;
    let renewing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(
      () => {
        renewing = this.#redis.auFlowRenew(keys.slots, jobId, lease).then(
          (added) => {
            if (added === 1)
              logger.warn(
                { jobId, group: group.key },
                `[au] [bullmq] job "${jobId}": its slot of concurrency group "${group.key}" lapsed (was the worker blocked past ${lease} ms?); it is counted again, and the group may briefly run more than ${group.limit}`,
              );
          },
          (error: unknown) =>
            logger.warn({ err: error, jobId, group: group.key }, '[au] [bullmq] could not renew a slot'),
        );
      },
      Math.max(1, Math.floor(lease / 2)),
    );
    timer.unref();
    let released: Promise<void> | undefined;
    return () => {
      released ??= (async () => {
        clearInterval(timer);
        // A renewal on its way would add the slot back after the release.
        await renewing;
        try {
          const promoted = await this.#redis.auFlowRelease(
            keys.slots,
            keys.waiting,
            jobId,
            group.limit,
            lease,
            this.#jobKeyPrefix,
          );
          this.#promote(promoted);
        } catch (error) {
          // The slot frees when its lease expires; parked jobs find it then.
          logger.warn(
            { err: error, jobId, group: group.key },
            `[au] [bullmq] job "${jobId}": could not give back its slot of concurrency group "${group.key}"; it frees when its lease expires (${lease} ms)`,
          );
        }
      })();
      return released;
    };
  }

  /** Moves the jobs handed a slot from delayed to waiting; one not delayed (yet) finds its slot when it runs. */
  #promote(jobIds: readonly string[]): void {
    for (const jobId of jobIds) {
      void this.#settings.jobs
        .getJob(jobId)
        .then((job) => job?.promote())
        .catch(() => undefined);
    }
  }

  /**
   * A parked job's safety wake-up, with jitter so that waiters spread: for the first
   * `limit` waiters half a lease (250 ms to 5 s), for the others `FAR_PARK_DELAY`.
   */
  #parkDelay(rank: number, limit: number): number {
    const base =
      rank < limit
        ? Math.min(Math.max(this.#settings.lease / 2, MIN_PARK_DELAY), MAX_PARK_DELAY)
        : FAR_PARK_DELAY;
    return Math.round(base * (0.75 + Math.random() / 2));
  }

  #keys(group: string | undefined) {
    return {
      slots: flowKey(this.#settings, 'conc', group ?? ''),
      waiting: flowKey(this.#settings, 'conc-waiting', group ?? ''),
      seq: flowKey(this.#settings, 'conc-seq', ''),
    };
  }
}

/**
 * The Redis key of a group's slots (`conc`), waiting list (`conc-waiting`), rate window
 * (`rate`) or rate waiters (`rate-waiting`): `<prefix>:<queue>:au:<kind>:<group>`; the
 * queue's arrival counter is `<prefix>:<queue>:au:conc-seq`.
 */
export function flowKey(
  where: { prefix: string; queue: string },
  kind: 'conc' | 'conc-waiting' | 'conc-seq' | 'rate' | 'rate-waiting',
  group: string,
): string {
  const base = `${where.prefix}:${where.queue}:au:${kind}`;
  return group === '' ? base : `${base}:${group}`;
}

/**
 * The groups a job runs under: those its launch computed (`Invocation.concurrency` /
 * `rateLimit`, carried in the job's data), or, for a job that carries none (a schedule's
 * tick, a job added outside au), the task-wide groups of the worker's task definition.
 */
export function flowGroupsOfJob(data: JobData, task: TaskDefinition | undefined): FlowGroups | undefined {
  const groups: FlowGroups = {};
  const concurrency = data.concurrency ?? wholeTask(task, 'concurrency');
  const rateLimit = data.rateLimit ?? wholeTask(task, 'rateLimit');
  if (concurrency !== undefined) groups.concurrency = concurrency;
  if (rateLimit !== undefined) groups.rateLimit = rateLimit;
  return concurrency === undefined && rateLimit === undefined ? undefined : groups;
}

function wholeTask(task: TaskDefinition | undefined, option: 'concurrency'): ConcurrencyGroup | undefined;
function wholeTask(task: TaskDefinition | undefined, option: 'rateLimit'): RateLimitGroup | undefined;
function wholeTask(
  task: TaskDefinition | undefined,
  option: 'concurrency' | 'rateLimit',
): ConcurrencyGroup | RateLimitGroup | undefined {
  if (task === undefined) return undefined;
  if (option === 'concurrency')
    return task.concurrency === undefined ? undefined : { key: task.name, limit: task.concurrency.limit };
  return task.rateLimit === undefined
    ? undefined
    : { key: task.name, limit: task.rateLimit.limit, interval: task.rateLimit.interval };
}

function defineScripts(redis: Redis): Redis & ScriptCommands {
  const scripted = redis as Redis & Partial<ScriptCommands>;
  if (typeof scripted.auFlowAcquire !== 'function') {
    redis.defineCommand('auFlowAcquire', { numberOfKeys: 5, lua: ACQUIRE_SCRIPT });
    redis.defineCommand('auFlowRelease', { numberOfKeys: 2, lua: RELEASE_SCRIPT });
    redis.defineCommand('auFlowRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
  }
  return scripted as Redis & ScriptCommands;
}
