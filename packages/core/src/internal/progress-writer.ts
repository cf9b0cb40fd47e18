import type { Clock, TimerHandle } from '../clock';
import type { ComputationStore } from '../contracts/store';
import type { ComputationLogs, ComputationPatch } from '../record';

/** What a running computation reported that the final status write should carry. */
export interface UnwrittenReports {
  progress?: { value: unknown };
  logs?: ComputationLogs;
}

/**
 * Throttles the writes of a running computation's reports (progress and `ctx.log`
 * lines): at most one store write per `interval` ms, carrying the latest of each, never
 * two writes in flight. `flush` hands back what is not written yet so the final status
 * write can carry it. A computation that reports nothing writes nothing.
 */
export class ProgressWriter {
  #latest: unknown;
  #unwritten = false;
  #logs: (() => ComputationLogs) | undefined;
  #logsUnwritten = false;
  #lastWrite = Number.NEGATIVE_INFINITY;
  #timer: TimerHandle | undefined;
  #inFlight: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly store: ComputationStore,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly interval: number,
    private readonly onWriteError: (error: unknown) => void,
  ) {}

  report(value: unknown): void {
    if (this.#stopped) return;
    this.#latest = value;
    this.#unwritten = true;
    this.#schedule();
  }

  /** New log lines: `logs` reads the whole log when the write goes out. */
  reportLogs(logs: () => ComputationLogs): void {
    if (this.#stopped) return;
    this.#logs = logs;
    this.#logsUnwritten = true;
    this.#schedule();
  }

  /** Stops writing; resolves with what was reported and not written yet. */
  async flush(): Promise<UnwrittenReports> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    const unwritten: UnwrittenReports = {};
    if (this.#unwritten) unwritten.progress = { value: this.#latest };
    if (this.#logsUnwritten && this.#logs !== undefined) unwritten.logs = this.#logs();
    return unwritten;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#lastWrite + this.interval - this.clock.now();
    if (wait <= 0) this.#write();
    else this.#timer = this.clock.setTimeout(() => this.#write(), wait);
  }

  #write(): void {
    this.#timer = undefined;
    if (this.#stopped || !(this.#unwritten || this.#logsUnwritten)) return;
    const patch: ComputationPatch = {};
    if (this.#unwritten) patch.progress = this.#latest;
    if (this.#logsUnwritten && this.#logs !== undefined) patch.logs = this.#logs();
    this.#unwritten = false;
    this.#logsUnwritten = false;
    this.#lastWrite = this.clock.now();
    this.#inFlight = this.#inFlight
      .then(() => this.store.update(this.key, patch, { ifStatus: ['running'] }))
      .catch(this.onWriteError);
  }
}
