import {
  type InputSchema,
  isTaskDefinition,
  type TaskContext,
  type TaskDefinition,
  type TaskLogger,
  ValidationError,
} from '@au/core';

/** What a stage receives besides the context: the signal, progress and a logger. */
export interface StageTools {
  /** Aborts on cancel or timeout (after the dispatch), or with the caller's signal (before it). */
  readonly signal: AbortSignal;
  /** Reports progress on the pipeline's computation (after the dispatch; a no-op before it). */
  progress(value: unknown): void;
  readonly log: TaskLogger;
}

/** A stage as a function: takes the context, returns the next context. */
export type StageFunction<Context> = (context: Context, tools: StageTools) => Context | Promise<Context>;

/** A named stage: the name appears in error messages. */
export interface Stage<Context> {
  readonly name: string;
  run: StageFunction<Context>;
}

/**
 * Anything `use` takes: a function, a named stage, or a task whose input and result are
 * the context (e.g. what `definePipeline` returns), run inline as one stage.
 */
export type StageLike<Context> = StageFunction<Context> | Stage<Context> | TaskDefinition<Context, Context>;

/** Names a stage function, for clearer messages. */
export function defineStage<Context>(name: string, run: StageFunction<Context>): Stage<Context> {
  if (typeof run !== 'function')
    throw new TypeError(`[au] [workflow] defineStage("${name}"): run must be a function`);
  return Object.freeze({ name, run });
}

/** A stage's name for messages. */
export function stageName(stage: StageLike<unknown>, index: number): string {
  if (typeof stage === 'function') return stage.name || `#${index + 1}`;
  return stage.name;
}

/** True when `value` can be a stage. */
export function isStageLike(value: unknown): value is StageLike<unknown> {
  return (
    typeof value === 'function' ||
    isTaskDefinition(value) ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Stage<unknown>).name === 'string' &&
      typeof (value as Stage<unknown>).run === 'function')
  );
}

/**
 * Runs stages in order, checking the context against the schema after each one: a stage
 * that breaks the context fails there, with the stage's name.
 */
export async function runStages<Context>(
  pipeline: string,
  schema: InputSchema<Context> | undefined,
  stages: readonly StageLike<Context>[],
  context: Context,
  tools: StageTools,
  offset = 0,
): Promise<Context> {
  let current = context;
  for (const [index, stage] of stages.entries()) {
    tools.signal.throwIfAborted();
    const next = isTaskDefinition(stage)
      ? await stage.run(current, tools as unknown as TaskContext)
      : typeof stage === 'function'
        ? await stage(current, tools)
        : await stage.run(current, tools);
    current = parseContext(
      schema,
      next,
      `pipeline "${pipeline}" after stage ${JSON.stringify(stageName(stage as StageLike<unknown>, offset + index))}`,
    );
  }
  return current;
}

/** Parses a context with the schema; `ValidationError` naming `where` when it does not fit. */
export function parseContext<Context>(
  schema: InputSchema<Context> | undefined,
  value: unknown,
  where: string,
): Context {
  if (schema === undefined) return value as Context;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError({
    task: where,
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path,
      message: issue.message,
      ...(issue.code === undefined ? {} : { code: issue.code }),
    })),
  });
}
