import { defineTask, type InputSchema, type TaskDefinition, type TaskOptions } from '@au/core';
import { PipelineDefinitionError } from './errors/pipeline-definition-error';
import { isStageLike, runStages, type StageLike } from './stage';

export interface DefinePipelineOptions<Context> extends Omit<TaskOptions<Context, Context>, 'run' | 'input'> {
  /** The task's name: how workers find it. */
  name: string;
  /** Validates the context at launch, where it runs, and after every stage. */
  context?: InputSchema<Context>;
  /** The stages, run in order on the backend. */
  stages: readonly StageLike<Context>[];
}

/** A task made of stages (what `definePipeline` returns). */
export type PipelineTask<Context> = TaskDefinition<Context, Context> & {
  readonly stages: readonly StageLike<Context>[];
};

/**
 * The stages after a dispatch, as a task in a module. Backends that run tasks by name
 * (threads, processes, BullMQ, Postgres) load that module in their workers, so export
 * the result from a task module and put it after `dispatch` in the pipeline:
 * `pipeline({ context }).use(prepare).dispatch(backend).use(heavyStages)`.
 */
export function definePipeline<Context>(options: DefinePipelineOptions<Context>): PipelineTask<Context> {
  const { stages, context: schema, ...taskOptions } = options;
  if (!Array.isArray(stages) || stages.length === 0 || !stages.every((stage) => isStageLike(stage))) {
    throw new PipelineDefinitionError({
      pipeline: String(options.name),
      message: '`stages` must be a non-empty array of functions, named stages or tasks',
    });
  }
  const frozen: readonly StageLike<Context>[] = Object.freeze([...options.stages]);
  const task = defineTask<Context, Context>({
    ...taskOptions,
    ...(schema === undefined ? {} : { input: schema }),
    run: (input, context) => runStages<Context>(options.name, schema, frozen, input, context),
  });
  return Object.freeze({ ...task, stages: frozen }) as PipelineTask<Context>;
}
