import { randomBytes } from 'node:crypto';
import { ClosedError, type ComputationRecord, type ComputationStore, watchComputations } from '@au/core';

/** One change of one computation, numbered in the order this server saw it. */
export interface HubEvent {
  /** `<server run>-<sequence>`: what a client sends back as `Last-Event-ID`. */
  id: string;
  sequence: number;
  record: ComputationRecord;
}

export interface EventHubOptions {
  /** Events kept for clients that reconnect. @default 1000 */
  replay?: number;
  /** Ms between polls for a store that cannot push. @default 1000 */
  pollInterval?: number;
  /** Where a failed watch is reported before it starts again. */
  onError?(error: unknown): void;
}

/**
 * Follows every computation of the store once for all `GET /events` clients
 * (`watchComputations`: the store's push, else polling), numbers each change, and keeps
 * the last `replay` events so that a client that reconnects with `Last-Event-ID` gets
 * what it missed. Starts with the first subscriber and runs until `close`.
 */
export class EventHub {
  readonly #store: ComputationStore;
  readonly #replay: number;
  readonly #pollInterval: number;
  readonly #onError: (error: unknown) => void;
  /** Tells this server run's ids from an earlier run's (a restart numbers from 1 again). */
  readonly #run = randomBytes(4).toString('hex');
  readonly #buffer: HubEvent[] = [];
  readonly #listeners = new Set<(event: HubEvent) => void>();
  readonly #controller = new AbortController();
  #sequence = 0;
  #started = false;

  constructor(store: ComputationStore, options: EventHubOptions = {}) {
    this.#store = store;
    this.#replay = options.replay ?? 1000;
    this.#pollInterval = options.pollInterval ?? 1000;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Calls `listener` with each new event until the returned function is called. */
  subscribe(listener: (event: HubEvent) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#started) {
      this.#started = true;
      void this.#follow();
    }
    return () => this.#listeners.delete(listener);
  }

  /**
   * The kept events after `lastEventId`, oldest first; `undefined` when they cannot be
   * told: an id of another server run, or older than the kept events.
   */
  since(lastEventId: string): HubEvent[] | undefined {
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId);
    if (match === null || match[1] !== this.#run) return undefined;
    const sequence = Number(match[2]);
    if (sequence > this.#sequence) return undefined;
    const oldest = this.#buffer[0]?.sequence ?? this.#sequence + 1;
    if (sequence < oldest - 1) return undefined;
    return this.#buffer.filter((event) => event.sequence > sequence);
  }

  close(): void {
    this.#controller.abort();
    this.#listeners.clear();
  }

  // ---- private helpers ------------------------------------------------------------

  async #follow(): Promise<void> {
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      try {
        for await (const record of watchComputations(
          this.#store,
          {},
          { signal, interval: this.#pollInterval },
        )) {
          this.#publish(record);
        }
      } catch (error) {
        if (signal.aborted || ClosedError.isInstance(error)) return;
        this.#onError(error);
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  #publish(record: ComputationRecord): void {
    this.#sequence += 1;
    const event: HubEvent = { id: `${this.#run}-${this.#sequence}`, sequence: this.#sequence, record };
    this.#buffer.push(event);
    if (this.#buffer.length > this.#replay) this.#buffer.shift();
    for (const listener of this.#listeners) listener(event);
  }
}
