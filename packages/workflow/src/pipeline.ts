import {
  asyncCompute,
  type ComputationBackend,
  type ComputationHandle,
  type ComputationStore,
  defineTask,
  getDefaults,
  type InputSchema,
  isTaskDefinition,
  type LaunchOptions,
  type Middleware,
  type RetryPolicy,
  silentLogger,
  type TaskDefinition,
} from '@au/core';
import { PipelineDefinitionError } from './errors/pipeline-definition-error';
import { isStageLike, parseContext, runStages, type StageLike, type StageTools } from './stage';

export interface PipelineOptions<Context> {
  /** Names the pipeline in messages, and its inline task (`pipeline:<name>`). @default 'pipeline' */
  name?: string;
  /** Validates the context on entry and after every stage (zod or anything with `safeParse`). */
  context?: InputSchema<Context>;
}

export interface DispatchOptions {
  /** Where the computation's record lives. @default the current defaults' store */
  store?: ComputationStore;
  /** Seconds the record is kept once it ends. */
  ttl?: number;
  retry?: RetryPolicy;
  /** Per-attempt limit in ms. */
  timeout?: number;
  middleware?: readonly Middleware[];
}

export interface PipelineRunOptions extends LaunchOptions {
  /** Aborts the stages that run in the caller. */
  signal?: AbortSignal;
}

interface PipelineState<Context> {
  name: string;
  schema: InputSchema<Context> | undefined;
  before: readonly StageLike<Context>[];
  dispatch?: { backend: ComputationBackend; options: DispatchOptions };
  after: readonly StageLike<Context>[];
}

let inlineCounter = 0;

/**
 * Stages that pass a context along, with at most one dispatch boundary:
 * `pipeline({ context }).use(a).use(b).dispatch(backend).use(c)`. Stages before the
 * dispatch run in the caller when `run` is called; the stages after it run as ONE
 * computation on the backend, and `run` resolves with its handle. Without a dispatch,
 * `run` resolves with the final context.
 *
 * On a backend that runs tasks by name (threads, processes, queues), the part after the
 * dispatch must be a single task that its workers load: `definePipeline({ name, stages })`
 * exported from a task module. Inline stage functions work on the in-process backend.
 */
export function pipeline<Context = unknown>(options: PipelineOptions<Context> = {}): Pipeline<Context> {
  const name = options.name ?? 'pipeline';
  if (!/^[A-Za-z0-9_.:-]{1,80}$/.test(name)) {
    throw new PipelineDefinitionError({
      pipeline: name,
      message: 'a name uses letters, digits, . _ : - (1 to 80)',
    });
  }
  return new Pipeline({ name, schema: options.context, before: [], after: [] });
}

/** A pipeline before its dispatch: `run` resolves with the final context. */
export class Pipeline<Context> {
  readonly #state: PipelineState<Context>;

  constructor(state: PipelineState<Context>) {
    this.#state = state;
  }

  /** A new pipeline with one more stage at the end (this one is left as it is). */
  use(stage: StageLike<Context>): Pipeline<Context> {
    return new Pipeline({ ...this.#state, before: [...this.#state.before, checkStage(this.#state, stage)] });
  }

  /** The boundary: the stages added after it run as one computation on `backend`. */
  dispatch(backend: ComputationBackend, options: DispatchOptions = {}): DispatchedPipeline<Context> {
    if (backend === undefined || typeof backend.launch !== 'function') {
      throw new PipelineDefinitionError({
        pipeline: this.#state.name,
        message: 'dispatch() takes a backend',
      });
    }
    return new DispatchedPipeline({ ...this.#state, dispatch: { backend, options } });
  }

  /** Validates the input, runs every stage here, and resolves with the final context. */
  run(input: Context, options: { signal?: AbortSignal } = {}): Promise<Context> {
    return runBefore(this.#state, input, options.signal);
  }
}

/** A pipeline past its dispatch: `run` resolves with the handle of the remote part. */
export class DispatchedPipeline<Context> {
  readonly #state: PipelineState<Context>;
  #task: TaskDefinition<Context, Context> | undefined;

  constructor(state: PipelineState<Context>) {
    this.#state = state;
  }

  /** A new pipeline with one more stage after the dispatch (run on the backend). */
  use(stage: StageLike<Context>): DispatchedPipeline<Context> {
    return new DispatchedPipeline({
      ...this.#state,
      after: [...this.#state.after, checkStage(this.#state, stage)],
    });
  }

  /** Always throws: a pipeline has at most one dispatch. */
  dispatch(_backend?: ComputationBackend, _options?: DispatchOptions): never {
    throw new PipelineDefinitionError({
      pipeline: this.#state.name,
      message:
        'dispatch() was already called: a pipeline has at most one dispatch boundary (stages before it run in the caller, stages after it run as one computation on the backend). Run a second pipeline from a stage if you need another hop',
    });
  }

  /**
   * Runs the stages before the dispatch here, then launches the rest as one computation
   * and resolves with its handle (`await handle.result()` is the final context).
   */
  async run(input: Context, options: PipelineRunOptions = {}): Promise<ComputationHandle<Context>> {
    const { signal, ...launchOptions } = options;
    const task = this.#remoteTask();
    const context = await runBefore(this.#state, input, signal);
    const { backend, options: dispatchOptions } = this.#state.dispatch!;
    const computation = asyncCompute(task, {
      ...dispatchOptions,
      store: dispatchOptions.store ?? getDefaults().store,
      backend,
    });
    return computation.launch([context], launchOptions) as Promise<ComputationHandle<Context>>;
  }

  /** The task that runs on the backend: the one task after the dispatch, or an inline one made of the stages. */
  #remoteTask(): TaskDefinition<Context, Context> {
    if (this.#task !== undefined) return this.#task;
    const { name, schema, after, dispatch } = this.#state;
    if (after.length === 0) {
      throw new PipelineDefinitionError({
        pipeline: name,
        message: 'nothing after dispatch(): add the stages to run on the backend with .use()',
      });
    }
    const only = after[0];
    if (after.length === 1 && isTaskDefinition(only)) {
      this.#task = only;
      return only;
    }
    const backend = dispatch!.backend;
    if (!backend.capabilities.inlineFunctions) {
      throw new PipelineDefinitionError({
        pipeline: name,
        message: `backend ${backend.name} runs tasks by name, so the stages after dispatch() must be ONE task its workers load: put them in definePipeline({ name, context, stages }) in a task module, and pass that after dispatch()`,
      });
    }
    inlineCounter += 1;
    this.#task = defineTask<Context, Context>({
      name: `pipeline:${name}:${inlineCounter}`,
      ...(schema === undefined ? {} : { input: schema }),
      run: (context, task) => runStages(name, schema, after, context, task, this.#state.before.length),
    });
    return this.#task;
  }
}

// ---- private helpers ----------------------------------------------------------------

async function runBefore<Context>(
  state: PipelineState<Context>,
  input: Context,
  signal: AbortSignal | undefined,
): Promise<Context> {
  const context = parseContext(state.schema, input, `pipeline "${state.name}" input`);
  const tools: StageTools = {
    signal: signal ?? new AbortController().signal,
    progress: () => undefined,
    log: silentLogger,
  };
  return runStages(state.name, state.schema, state.before, context, tools);
}

function checkStage<Context>(state: PipelineState<Context>, stage: StageLike<Context>): StageLike<Context> {
  if (!isStageLike(stage)) {
    throw new PipelineDefinitionError({
      pipeline: state.name,
      message: `use() takes a function, a { name, run } stage or a task, got ${stage === null ? 'null' : typeof stage}`,
    });
  }
  return stage;
}
