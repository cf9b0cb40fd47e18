import type { Middleware, RunContext } from '../contracts/middleware';
import { CancelledError } from '../errors/cancelled-error';
import type { TaskLogger } from '../task';

export interface LoggingMiddlewareOptions {
  /** Any pino-compatible logger (`console` fits). */
  logger: TaskLogger;
  /** Log the task's input with the start line. @default false */
  logArgs?: boolean;
}

/** Logs each attempt's start, end and duration, and failures with their error. Run side. */
export function LoggingMiddleware({ logger, logArgs = false }: LoggingMiddlewareOptions): Middleware {
  const fields = (context: RunContext) => ({
    key: context.key,
    task: context.task,
    attempt: context.attempt,
  });
  return {
    name: 'logging',
    async run(context, next) {
      logger.info({ ...fields(context), ...(logArgs ? { args: context.args } : {}) }, 'computation started');
      const started = performance.now();
      try {
        const result = await next();
        logger.info({ ...fields(context), durationMs: performance.now() - started }, 'computation completed');
        return result;
      } catch (error) {
        const durationMs = performance.now() - started;
        if (CancelledError.isInstance(error))
          logger.info({ ...fields(context), durationMs }, 'computation cancelled');
        else logger.error({ ...fields(context), durationMs, err: error }, 'computation failed');
        throw error;
      }
    },
  };
}
