import type { Clock, TimerHandle } from '../clock';
import type { ComputationStore } from '../contracts/store';

/**
 * Throttles progress writes: at most one store write per `interval` ms, always the
 * latest value, never two writes in flight. `flush` hands back a value not yet written
 * so the final status write can carry it.
 */
export class ProgressWriter {
  #latest: unknown;
  #unwritten = false;
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
    if (this.#timer !== undefined) return;
    const wait = this.#lastWrite + this.interval - this.clock.now();
    if (wait <= 0) this.#write();
    else this.#timer = this.clock.setTimeout(() => this.#write(), wait);
  }

  /** Stops writing; resolves with `{ value }` when the latest report was not written yet. */
  async flush(): Promise<{ value: unknown } | undefined> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    return this.#unwritten ? { value: this.#latest } : undefined;
  }

  #write(): void {
    this.#timer = undefined;
    if (this.#stopped || !this.#unwritten) return;
    const value = this.#latest;
    this.#unwritten = false;
    this.#lastWrite = this.clock.now();
    this.#inFlight = this.#inFlight
      .then(() => this.store.update(this.key, { progress: value }, { ifStatus: ['running'] }))
      .catch(this.onWriteError);
  }
}
