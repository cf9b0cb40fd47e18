import type { ComputationLogs, LogLevel, LogLine } from '../record';

/** Lines kept per computation, across its attempts. */
export const MAX_LOG_LINES = 200;
/** About how many bytes of lines are kept per computation (messages and data as JSON). */
export const MAX_LOG_BYTES = 64 * 1024;
/** Characters kept of one message. */
export const MAX_LOG_MESSAGE = 2000;

/**
 * The `ctx.log` lines of one computation, bounded: the newest `MAX_LOG_LINES` lines within
 * about `MAX_LOG_BYTES`, the oldest dropped (and counted) first. Lines of earlier attempts
 * are kept: it starts from the record's stored log.
 */
export class LogCollector {
  readonly #lines: LogLine[];
  readonly #sizes: number[];
  #bytes = 0;
  #dropped: number;

  constructor(stored?: ComputationLogs) {
    this.#lines = stored?.lines.slice() ?? [];
    this.#sizes = this.#lines.map(sizeOf);
    for (const size of this.#sizes) this.#bytes += size;
    this.#dropped = stored?.dropped ?? 0;
    this.#trim();
  }

  /** Adds one line from a logger call's arguments (pino's `(object, message)` or `(message, …)`). */
  add(level: LogLevel, args: readonly unknown[], time: number, attempt: number): void {
    const line = toLogLine(level, args, time, attempt);
    const size = sizeOf(line);
    this.#lines.push(line);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#trim();
  }

  /** The log as it is stored. */
  snapshot(): ComputationLogs {
    return { lines: this.#lines.slice(), dropped: this.#dropped };
  }

  #trim(): void {
    while (this.#lines.length > 1 && (this.#lines.length > MAX_LOG_LINES || this.#bytes > MAX_LOG_BYTES)) {
      this.#lines.shift();
      this.#bytes -= this.#sizes.shift() ?? 0;
      this.#dropped++;
    }
  }
}

/** One stored line from a logger call's arguments. */
export function toLogLine(level: LogLevel, args: readonly unknown[], time: number, attempt: number): LogLine {
  let data: unknown;
  let rest = args;
  const first = args[0];
  if (typeof first === 'object' && first !== null) {
    data = jsonSafe(first);
    rest = args.slice(1);
  }
  let message = rest.map((part) => (typeof part === 'string' ? part : stringify(part))).join(' ');
  if (message.length > MAX_LOG_MESSAGE) message = `${message.slice(0, MAX_LOG_MESSAGE)}…`;
  const line: LogLine = { time, level, message, attempt };
  if (data !== undefined) line.data = data;
  return line;
}

// ---- private helpers --------------------------------------------------------------

function sizeOf(line: LogLine): number {
  return 64 + line.message.length + (line.data === undefined ? 0 : stringify(line.data).length);
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value, errorsAsObjects) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A JSON-safe copy (errors as `{ name, message }`), cut when it is too large to keep. */
function jsonSafe(value: unknown): unknown {
  const text = stringify(value);
  if (text.length > MAX_LOG_MESSAGE * 4) return `${text.slice(0, MAX_LOG_MESSAGE)}…`;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorsAsObjects(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}
