import type { TaskLogger } from './task';

const noop = () => {};

/** A logger that drops everything: the default, so a library never writes to stdout unasked. */
export const silentLogger: TaskLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** `logger.child(bindings)` where the logger has it (pino does), else the logger itself. */
export function childLogger(logger: TaskLogger, bindings: Record<string, unknown>): TaskLogger {
  const withChild = logger as TaskLogger & { child?: (bindings: Record<string, unknown>) => TaskLogger };
  return typeof withChild.child === 'function' ? withChild.child(bindings) : logger;
}
