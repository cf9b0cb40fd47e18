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
  /** Ms the store is still followed after the last subscriber left. @default 60000 */
  idleTimeout?: number;
  /** Where a failed watch is reported before it starts again. */
  onError?(error: unknown): void;
}

/**
 * Follows every computation of the store once for all `GET /events` clients
 * (`watchComputations`: the store's push, else polling), numbers each change, and keeps
 * the last `replay` events so that a client that reconnects with `Last-Event-ID` gets
 * what it missed. Starts with the first subscriber and stops `idleTimeout` ms after the
 * last one left (a store without push is not polled for no one); what happened while it
 * was stopped cannot be replayed, so ids from before are answered with a reset.
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
  readonly #idleTimeout: number;
  #controller: AbortController | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #sequence = 0;
  #closed = false;

  constructor(store: ComputationStore, options: EventHubOptions = {}) {
    this.#store = store;
    this.#replay = options.replay ?? 1000;
    this.#pollInterval = options.pollInterval ?? 1000;
    this.#onError = options.onError ?? (() => undefined);
    this.#idleTimeout = options.idleTimeout ?? 60_000;
  }

  /** Calls `listener` with each new event until the returned function is called. */
  subscribe(listener: (event: HubEvent) => void): () => void {
    this.#listeners.add(listener);
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#controller === undefined && !this.#closed) {
      const controller = new AbortController();
      this.#controller = controller;
      void this.#follow(controller.signal);
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0 || this.#controller === undefined) return;
      if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => this.#stop(), this.#idleTimeout);
      this.#idleTimer.unref();
    };
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
    this.#closed = true;
    this.#stop();
    this.#listeners.clear();
  }

  // ---- private helpers ------------------------------------------------------------

  /** Stops following; the events so far can no longer be told complete, so they go. */
  #stop(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#controller === undefined) return;
    this.#controller.abort();
    this.#controller = undefined;
    this.#buffer.length = 0;
    // A gap in the numbering: an id from before the stop is older than anything kept.
    this.#sequence += 1;
  }

  async #follow(signal: AbortSignal): Promise<void> {
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
