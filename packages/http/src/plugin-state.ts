import type {
  Codec,
  ComputationBackend,
  ComputationRecord,
  ComputationScheduler,
  ComputationStatsReport,
  ComputationStore,
  TaskDefinition,
  TaskRegistry,
} from '@au/core';
import type { LaunchSettings } from '@au/core/kit';
import type { Registry } from 'prom-client';
import type { EventHub } from './event-hub';

/** What the routes share: resolved options, the per-task launch settings, open streams. */
export interface PluginState {
  store: ComputationStore;
  backend: ComputationBackend;
  tasks: TaskRegistry;
  /** Keeps and fires the schedules; `undefined` when the store and backend offer none. */
  scheduler: ComputationScheduler | undefined;
  /** Launch settings of each served task, resolved once. */
  settings: Map<string, LaunchSettings>;
  defaultCodec: Codec;
  defaultWait: number;
  maxWait: number;
  exposeStacks: boolean;
  heartbeatInterval: number;
  /** Largest request body in bytes. */
  bodyLimit: number;
  metricsRegistry: Registry | undefined;
  /** Live counts of the store, and the recent window of this process's metrics. */
  stats(options?: { window?: number }): Promise<ComputationStatsReport>;
  /** Every computation's changes, for `GET /events`. */
  events: EventHub;
  /** Aborted when the server closes, to end open event streams. */
  shutdown: AbortController;
}

/** The codec that decodes a record's value: its task's, else the server's default. */
export function codecFor(state: PluginState, record: ComputationRecord): Codec {
  return state.settings.get(record.task)?.codec ?? state.defaultCodec;
}

/** The served task of this name, if any. */
export function servedTask(state: PluginState, name: string): TaskDefinition | undefined {
  return state.tasks.find(name);
}
