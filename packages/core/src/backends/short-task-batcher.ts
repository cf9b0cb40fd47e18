import type { LocalSlot } from './local-scheduler';

/*
 * Sending one attempt to a thread or a process costs the main thread more than a trivial
 * task costs the worker: with tasks of microseconds the pool waits on the main thread.
 * Attempts of tasks known to be short therefore travel in batches, one message each way
 * per batch (ThreadsBackend, ProcessBackend).
 *
 * A task is short once at least MIN_SAMPLES runs averaged under SHORT_TASK_MS (and its
 * invocation has no timeout under MIN_TIMEOUT_MS). Its record says `running` from the
 * moment it joins a batch: a few milliseconds at most before it really runs.
 */

/** Runs of a task measured before it may be batched. */
const MIN_SAMPLES = 8;
/** Mean duration in ms under which a task is short. */
const SHORT_TASK_MS = 1;
/** Invocations with a tighter timeout are never batched: the wait in a batch counts against it. */
const MIN_TIMEOUT_MS = 1000;
/** Weight of the newest run in the moving mean. */
const NEWEST_WEIGHT = 0.2;
const DEFAULT_MAX_BATCH = 64;
/**
 * Ms of estimated work (the tasks' mean durations) a batch grows to at most, so a batch of
 * tasks near SHORT_TASK_MS stays small while one of microsecond tasks fills up; twice as
 * much per worker may be claimed ahead.
 */
const BATCH_BUDGET_MS = 1;

/** What the batcher does with each attempt of a batch whose thread died. */
export type BatchFailure = 'fail' | 'resend';

/** What a batched attempt must carry: an id unique among those in flight, and its task's name. */
export interface BatchableRequest {
  id: number;
  task: string;
}

/** What its reply may carry: the ms the task ran, to learn which tasks are short. */
export interface BatchableResponse {
  duration?: number;
}

export interface ShortTaskBatcherOptions<
  Request extends BatchableRequest,
  Response extends BatchableResponse,
> {
  /** The backend's name, in errors: `[au] [<name>] …`. */
  name: string;
  /** Workers (threads, processes) in the pool: batches sent at once. */
  workers: number;
  /** Attempts in one batch at most; 1 sends every attempt alone. @default 64 */
  maxBatch?: number | undefined;
  /** Runs several attempts in one worker, one after the other; one response each, in order. */
  runBatch(requests: Request[]): Promise<Response[]>;
  /** Runs one attempt alone. */
  runOne(request: Request): Promise<Response>;
  /**
   * A batch's worker died (stopped on purpose, or crashed; `error` is the pool's): for
   * each attempt, `fail` (reject with that error) or `resend` (run it again, alone).
   */
  onBatchFailed(requests: readonly Request[], error: unknown): BatchFailure[];
}

interface WaitingAttempt<Request, Response> {
  request: Request;
  /** Its task's mean duration when it was sent, in ms. */
  estimate: number;
  slot: LocalSlot;
  slotReleased: boolean;
  resolve(response: Response): void;
  reject(error: unknown): void;
}

interface TaskTimings {
  mean: number;
  samples: number;
}

/** Learns which tasks are short and sends their attempts to the pool in batches. */
export class ShortTaskBatcher<Request extends BatchableRequest, Response extends BatchableResponse> {
  readonly #options: ShortTaskBatcherOptions<Request, Response>;
  readonly #maxBatch: number;
  readonly #timings = new Map<string, TaskTimings>();
  readonly #waiting: WaitingAttempt<Request, Response>[] = [];
  /** Batched attempts not answered yet (waiting or sent). */
  #inFlight = 0;
  /** Their estimated ms of work. */
  #inFlightMs = 0;
  #batchesInFlight = 0;
  #flushScheduled = false;
  #batched = 0;

  constructor(options: ShortTaskBatcherOptions<Request, Response>) {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) {
      throw new TypeError(`[au] [${options.name}] maxBatch must be an integer ≥ 1, got ${maxBatch}`);
    }
    this.#options = options;
    this.#maxBatch = maxBatch;
  }

  /** Whether one more attempt may be claimed ahead of a free worker: about a batch for each worker. */
  get #hasRoom(): boolean {
    const { workers } = this.#options;
    return this.#inFlight <= workers * this.#maxBatch && this.#inFlightMs <= workers * 2 * BATCH_BUDGET_MS;
  }

  /** Attempts sent in batches so far. */
  get batchedCount(): number {
    return this.#batched;
  }

  /** Whether this attempt goes in a batch. */
  isShort(task: string, timeout: number | undefined): boolean {
    if (this.#maxBatch <= 1) return false;
    if (timeout !== undefined && timeout < MIN_TIMEOUT_MS) return false;
    const timings = this.#timings.get(task);
    return timings !== undefined && timings.samples >= MIN_SAMPLES && timings.mean < SHORT_TASK_MS;
  }

  /** Learns from one finished run of `task`. */
  record(task: string, duration: number | undefined): void {
    if (duration === undefined) return;
    const timings = this.#timings.get(task);
    if (timings === undefined) this.#timings.set(task, { mean: duration, samples: 1 });
    else {
      timings.mean += (duration - timings.mean) * NEWEST_WEIGHT;
      timings.samples += 1;
    }
  }

  /** Forgets what was learnt of `task` (its thread died): it runs alone until measured again. */
  forget(task: string): void {
    this.#timings.delete(task);
  }

  /**
   * Queues an attempt for the next batch. While fewer than a batch per thread are in
   * flight, its slot is freed at once, so the scheduler claims the next computation.
   */
  send(request: Request, slot: LocalSlot): Promise<Response> {
    return new Promise((resolve, reject) => {
      const waiting: WaitingAttempt<Request, Response> = {
        request,
        estimate: this.#timings.get(request.task)?.mean ?? 0,
        slot,
        slotReleased: false,
        resolve,
        reject,
      };
      this.#waiting.push(waiting);
      this.#inFlight += 1;
      this.#inFlightMs += waiting.estimate;
      if (this.#hasRoom) this.#releaseSlot(waiting);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // One turn of the event loop lets the attempts claimed meanwhile join the batch.
        setImmediate(() => {
          this.#flushScheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Takes back an attempt not sent yet; rejects it with `reason`. False when it was sent already. */
  withdraw(id: number, reason: unknown): boolean {
    const index = this.#waiting.findIndex((waiting) => waiting.request.id === id);
    if (index === -1) return false;
    const [waiting] = this.#waiting.splice(index, 1) as [WaitingAttempt<Request, Response>];
    this.#inFlight -= 1;
    this.#inFlightMs -= waiting.estimate;
    waiting.reject(reason);
    return true;
  }

  #flush(): void {
    let free = this.#options.workers - this.#batchesInFlight;
    while (free > 0 && this.#waiting.length > 0) {
      let size = 0;
      let budget = 0;
      const most = Math.min(this.#maxBatch, Math.ceil(this.#waiting.length / free));
      // At least one; then as many as fit in the batch's budget of estimated work.
      while (size < most && (size === 0 || budget + this.#waiting[size]!.estimate <= BATCH_BUDGET_MS)) {
        budget += this.#waiting[size]!.estimate;
        size += 1;
      }
      this.#sendBatch(this.#waiting.splice(0, size));
      free -= 1;
    }
  }

  #sendBatch(batch: WaitingAttempt<Request, Response>[]): void {
    this.#batchesInFlight += 1;
    this.#batched += batch.length;
    const requests = batch.map((waiting) => waiting.request);
    const answered = attempt(() =>
      requests.length === 1
        ? this.#options.runOne(requests[0]!).then((response) => [response])
        : this.#options.runBatch(requests),
    );
    answered.then(
      (responses) => {
        this.#settle(batch);
        for (let index = 0; index < batch.length; index++) batch[index]!.resolve(responses[index]!);
      },
      (error: unknown) => {
        this.#settle(batch);
        const decisions = this.#options.onBatchFailed(requests, error);
        for (let index = 0; index < batch.length; index++) {
          const waiting = batch[index]!;
          if (decisions[index] === 'resend')
            attempt(() => this.#options.runOne(waiting.request)).then(waiting.resolve, waiting.reject);
          else waiting.reject(error);
        }
      },
    );
  }

  /** A batch came back: its worker is free for the next one. */
  #settle(batch: readonly WaitingAttempt<Request, Response>[]): void {
    this.#batchesInFlight -= 1;
    this.#inFlight -= batch.length;
    for (const waiting of batch) this.#inFlightMs -= waiting.estimate;
    for (const waiting of this.#waiting) {
      if (!this.#hasRoom) break;
      this.#releaseSlot(waiting);
    }
    this.#flush();
  }

  #releaseSlot(waiting: WaitingAttempt<Request, Response>): void {
    if (waiting.slotReleased) return;
    waiting.slotReleased = true;
    waiting.slot.release();
  }
}

/** The promise `run` returns, or a rejected one when it throws (a pool closed meanwhile). */
function attempt<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}
