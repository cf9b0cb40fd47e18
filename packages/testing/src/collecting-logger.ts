import type { TaskLogger } from '@au/core';

/** A level of `TaskLogger`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line a `CollectingLogger` received: its level, its arguments and its child's bindings. */
export interface LogLine {
  level: LogLevel;
  args: readonly unknown[];
  /** Bindings of the `child` loggers it went through, outermost first (pino prints them too). */
  bindings: Record<string, unknown>;
}

/** A logger that keeps what it receives, for assertions. */
export interface CollectingLogger extends TaskLogger {
  /** Every line so far, children's included, in order. */
  readonly lines: readonly LogLine[];
  /** Lines whose arguments or bindings contain `text`, at one of `levels` (default: any). */
  mentioning(text: string, levels?: readonly LogLevel[]): LogLine[];
  /** A logger whose lines carry `bindings` and land in the same `lines` (pino's `child`). */
  child(bindings: Record<string, unknown>): TaskLogger;
  /** Forgets the lines so far. */
  clear(): void;
}

/**
 * A pino-compatible logger that collects lines instead of writing them: pass it to a
 * backend's `logger` option, then look for what it said (`mentioning(key, ['warn'])`).
 */
export function collectingLogger(): CollectingLogger {
  const lines: LogLine[] = [];
  const loggerWith = (bindings: Record<string, unknown>) => {
    const at =
      (level: LogLevel) =>
      (...args: unknown[]): void => {
        lines.push({ level, args, bindings });
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more: Record<string, unknown>): TaskLogger => loggerWith({ ...bindings, ...more }),
    };
  };
  return {
    ...loggerWith({}),
    lines,
    mentioning(text, levels) {
      return lines.filter(
        (line) =>
          (levels === undefined || levels.includes(line.level)) &&
          [...line.args, line.bindings].some((value) => textOf(value).includes(text)),
      );
    },
    clear() {
      lines.length = 0;
    },
  };
}

// ---- private helpers --------------------------------------------------------------

/** A value as searchable text: errors with their message and fields, cycles cut, BigInts as digits. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return String(value);
  const seen = new WeakSet<object>();
  try {
    const text = JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'bigint') return String(item);
      if (typeof item !== 'object' || item === null) return item;
      if (seen.has(item)) return '[Circular]';
      seen.add(item);
      return item instanceof Error ? { ...item, name: item.name, message: item.message } : item;
    });
    return text ?? String(value);
  } catch {
    return String(value);
  }
}
