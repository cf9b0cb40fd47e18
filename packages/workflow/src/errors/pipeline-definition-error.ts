import { AuError } from '@au/core';

/** A pipeline was put together wrongly: a second `dispatch`, a bad stage, or stages a backend cannot run. */
export class PipelineDefinitionError extends AuError {
  constructor({ pipeline, message }: { pipeline: string; message: string }) {
    super('AU_PIPELINE_DEFINITION', { message: `[au] [workflow] pipeline "${pipeline}": ${message}` });
    this.name = 'PipelineDefinitionError';
  }

  static override isInstance(error: unknown): error is PipelineDefinitionError {
    return AuError.isInstance(error) && error.name === 'PipelineDefinitionError';
  }
}
