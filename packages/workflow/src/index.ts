export { type DefinePipelineOptions, definePipeline, type PipelineTask } from './define-pipeline';
export { GraphDefinitionError } from './errors/graph-definition-error';
export { GraphFailedError, type GraphNodeFailure } from './errors/graph-failed-error';
export { PipelineDefinitionError } from './errors/pipeline-definition-error';
export { GraphHandle } from './graph-handle';
export { GraphResults } from './graph-results';
export {
  GRAPH_TASK,
  type GraphProgress,
  type GraphSummary,
  type PersistedGraph,
  type PersistedNode,
  readPersistedGraph,
} from './graph-state';
export type { Dependency, NodeRef, ParentResults } from './node-ref';
export {
  type DispatchedPipeline,
  type DispatchOptions,
  type Pipeline,
  type PipelineOptions,
  type PipelineRunOptions,
  pipeline,
} from './pipeline';
export { defineStage, type Stage, type StageFunction, type StageLike, type StageTools } from './stage';
export { TaskGraph } from './task-graph';
export type { FailurePolicy, NodeOptions, ResumeOptions, TaskGraphOptions } from './task-graph-options';
