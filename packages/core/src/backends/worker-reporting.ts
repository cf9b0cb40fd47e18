import type { TaskLogger } from '../task';

/*
 * What a task running in a thread or a child process uses to report to the side that
 * owns the store: progress, throttled, and log lines, forwarded. Each backend supplies
 * how a message travels (postMessage, process.send).
 */

export type ForwardedLogLevel = 'debug' | 'info' | 'warn' | 'error';

export const FORWARDED_LOG_LEVELS: readonly ForwardedLogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Sends progress at most once per `interval` ms, always the newest value; `stop`
 * returns the last value reported, which travels with the attempt's reply.
 */
export class ThrottledProgress {
  #last: { value: unknown } | undefined;
  #sentAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #send: (value: unknown) => void;
  readonly #interval: number;

  constructor(send: (value: unknown) => void, interval: number) {
    this.#send = send;
    this.#interval = interval;
  }

  report(value: unknown): void {
    if (this.#stopped) return;
    this.#last = { value };
    if (this.#timer !== undefined) return;
    const wait = this.#sentAt + this.#interval - Date.now();
    if (wait <= 0) this.#flush();
    else this.#timer = setTimeout(() => this.#flush(), wait);
  }

  /** Stops sending; returns the last value reported. */
  stop(): { value: unknown } | undefined {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    return this.#last;
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#last === undefined) return;
    this.#sentAt = Date.now();
    this.#send(this.#last.value);
  }
}

/** A `ctx.log` whose every line goes to `forward` (and from there to the computation's logger). */
export function forwardingLogger(forward: (level: ForwardedLogLevel, args: unknown[]) => void): TaskLogger {
  const logger = {} as Record<ForwardedLogLevel, (...args: unknown[]) => void>;
  for (const level of FORWARDED_LOG_LEVELS) logger[level] = (...args) => forward(level, args);
  return logger;
}
