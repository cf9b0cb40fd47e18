import type { Clock } from '../clock';
import type { RunContext } from '../contracts/middleware';
import type { ComputationStore } from '../contracts/store';
import { childLogger } from '../logger';
import type { ComputationLogs, LogLevel } from '../record';
import type { TaskContext, TaskLogger } from '../task';
import type { AbortSource } from './abort-source';
import { LogCollector } from './log-collector';
import { ProgressWriter, type UnwrittenReports } from './progress-writer';

/** What one attempt's context needs besides the record's fields. */
export interface AttemptContextSettings {
  store: ComputationStore;
  clock: Clock;
  logger: TaskLogger;
  /** Minimum ms between two progress writes. */
  progressInterval: number;
  /** Aborts the attempt: `signal` is made from it on first use. */
  abort: AbortSource;
  /** The record's stored log, which `ctx.log` lines are added to. */
  storedLogs: ComputationLogs | undefined;
}

const NOTHING_UNWRITTEN: UnwrittenReports = Object.freeze({});
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * The context of one attempt, as the task and the run-side middleware see it. A class with
 * its getters on the prototype: an object literal with getters costs about 1 KB more per
 * computation (V8 gives each one accessors of its own). The progress writer and the log
 * are made on first use: most computations report nothing.
 */
export class AttemptContext implements TaskContext, RunContext {
  /** Set once the input is decoded. */
  args: unknown = undefined;
  /** A property, not a method: tasks take it out of the context (`{ progress }`). */
  readonly progress: (value: unknown) => void;
  readonly #settings: AttemptContextSettings;
  #writer: ProgressWriter | undefined;
  #log: TaskLogger | undefined;
  #collector: LogCollector | undefined;
  #flushed = false;

  constructor(
    readonly key: string,
    readonly task: string,
    readonly attempt: number,
    readonly createdAt: number,
    readonly startedAt: number,
    readonly meta: Readonly<Record<string, unknown>>,
    settings: AttemptContextSettings,
  ) {
    this.#settings = settings;
    this.progress = (value) => this.#writerOf()?.report(value);
  }

  get signal(): AbortSignal {
    return this.#settings.abort.signal;
  }

  /**
   * Lines go to the logger and are kept with the computation (written with the progress
   * writes and the final status write: no write of their own).
   */
  get log(): TaskLogger {
    if (this.#log !== undefined) return this.#log;
    const readLogs = () => (this.#collector as LogCollector).snapshot();
    this.#log = capturingLogger(
      childLogger(this.#settings.logger, { key: this.key, task: this.task, attempt: this.attempt }),
      (level, args) => {
        this.#collector ??= new LogCollector(this.#settings.storedLogs);
        this.#collector.add(level, args, this.#settings.clock.now(), this.attempt);
        this.#writerOf()?.reportLogs(readLogs);
      },
    );
    return this.#log;
  }

  /**
   * Stops the progress writes; resolves with what was reported and not written yet. What a
   * task that ignored its signal reports afterwards is dropped, as the writer drops it.
   */
  flush(): Promise<UnwrittenReports> | UnwrittenReports {
    this.#flushed = true;
    return this.#writer === undefined ? NOTHING_UNWRITTEN : this.#writer.flush();
  }

  /** The writer, made on first use; `undefined` once flushed (the attempt has ended). */
  #writerOf(): ProgressWriter | undefined {
    if (this.#writer === undefined && !this.#flushed) {
      const { store, clock, progressInterval, logger } = this.#settings;
      const key = this.key;
      this.#writer = new ProgressWriter(store, key, clock, progressInterval, (error) =>
        logger.warn({ err: error, key }, '[au] progress write failed'),
      );
    }
    return this.#writer;
  }
}

/** A logger that writes to `logger` and hands each line to `capture`. */
function capturingLogger(
  logger: TaskLogger,
  capture: (level: LogLevel, args: unknown[]) => void,
): TaskLogger {
  const tee = {} as Record<LogLevel, (...args: unknown[]) => void>;
  for (const level of LOG_LEVELS) {
    tee[level] = (...args) => {
      logger[level](...args);
      capture(level, args);
    };
  }
  return tee;
}
