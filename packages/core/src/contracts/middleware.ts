import type { TaskLogger } from '../task';

/** Calls the rest of the chain (the next middleware, then the launch or the task). */
export type Next = () => Promise<unknown>;

/** What launch-side middleware sees: runs in the caller, before the record exists. */
export interface LaunchContext {
  readonly key: string;
  readonly task: string;
  readonly args: unknown;
  readonly priority: number;
  /** Free per-launch data that the record will keep (`record.meta`). */
  readonly meta: Record<string, unknown>;
}

/** What run-side middleware sees: runs where the task runs, once per attempt. */
export interface RunContext {
  readonly key: string;
  readonly task: string;
  readonly args: unknown;
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly log: TaskLogger;
  /** When the record was created, for queue-wait metrics. */
  readonly createdAt: number;
  /** When this attempt started. */
  readonly startedAt: number;
  /**
   * The record's `meta`, as the launch wrote it (launch-side middleware included): how
   * data such as a trace context travels from the caller to wherever the task runs.
   */
  readonly meta: Readonly<Record<string, unknown>>;
}

/**
 * # Middleware
 *
 * Onion-style wrappers around launching and running. `launch` runs in the caller
 * around the record's creation and the backend's `launch` (rate limits, dedupe, auth);
 * `run` runs where the task runs, around each attempt (logging, metrics, tracing).
 * Either may throw to refuse; `run` may replace the result by returning another value.
 */
export interface Middleware {
  readonly name: string;
  launch?(context: LaunchContext, next: Next): Promise<unknown>;
  run?(context: RunContext, next: Next): Promise<unknown>;
}

/** The au-style hooks, for run-side middleware that does not need to wrap `next`. */
export interface MiddlewareHooks {
  name: string;
  before?(context: RunContext): void | Promise<void>;
  after?(context: RunContext, result: unknown): void | Promise<void>;
  onError?(context: RunContext, error: unknown): void | Promise<void>;
}

/** Builds run-side middleware from `before` / `after` / `onError` hooks. */
export function defineMiddleware(hooks: MiddlewareHooks): Middleware {
  return {
    name: hooks.name,
    async run(context, next) {
      await hooks.before?.(context);
      let result: unknown;
      try {
        result = await next();
      } catch (error) {
        await hooks.onError?.(context, error);
        throw error;
      }
      await hooks.after?.(context, result);
      return result;
    },
  };
}

/** Runs `final` inside the `side` hooks of `middleware`, outermost first. */
export function composeMiddleware<C>(
  middleware: readonly Middleware[],
  side: 'launch' | 'run',
  context: C,
  final: Next,
): Promise<unknown> {
  const hooks = middleware.filter((item) => item[side] !== undefined);
  if (hooks.length === 0) return final();
  const dispatch = (index: number): Promise<unknown> => {
    if (index === hooks.length) return final();
    const hook = hooks[index]![side] as (context: C, next: Next) => Promise<unknown>;
    let called = false;
    return hook.call(hooks[index], context, () => {
      if (called)
        return Promise.reject(new Error(`[au] middleware "${hooks[index]!.name}" called next() twice`));
      called = true;
      return dispatch(index + 1);
    });
  };
  return dispatch(0);
}
