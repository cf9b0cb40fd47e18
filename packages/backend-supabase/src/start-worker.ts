import type { CloseOptions } from '@au/core';
import { checkOptions, optionNames } from '@au/core/kit';
import { PostgresQueueBackend, type PostgresQueueBackendOptions } from './postgres-queue-backend';
import type { QueueBackend } from './queue-backend';
import { QUEUE_BACKEND_OPTION_NAMES, type QueueBackendOptions } from './queue-backend-options';
import { SupabaseQueueBackend, type SupabaseQueueBackendOptions } from './supabase-queue-backend';

/** A running queue worker. */
export interface QueueWorkerHandle {
  /** The backend the worker runs in (it can launch too). */
  backend: QueueBackend;
  /** Stops claiming; running work may finish within `timeout` ms, then is aborted. */
  close(options?: CloseOptions): Promise<void>;
}

type WithTasks<T extends QueueBackendOptions> = Omit<T, 'worker' | 'tasks'> & {
  /** The tasks to run by name: a registry, task definitions, or task module paths / URLs. */
  tasks: NonNullable<QueueBackendOptions['tasks']>;
};

export type StartPostgresWorkerOptions = WithTasks<PostgresQueueBackendOptions>;
export type StartSupabaseWorkerOptions = WithTasks<SupabaseQueueBackendOptions>;

const { worker: _worker, ...WORKER_OPTION_NAMES } = QUEUE_BACKEND_OPTION_NAMES;

const START_POSTGRES_WORKER_OPTIONS = optionNames<StartPostgresWorkerOptions>({
  ...WORKER_OPTION_NAMES,
  connection: true,
  schema: true,
  max: true,
  listen: true,
});

const START_SUPABASE_WORKER_OPTIONS = optionNames<StartSupabaseWorkerOptions>({
  ...WORKER_OPTION_NAMES,
  client: true,
  schema: true,
});

/**
 * Starts a worker that runs queued au tasks by name from PostgreSQL (`pg`, LISTEN/NOTIFY).
 * Resolves once its task modules are loaded and its store is checked against the queue's
 * (`StoreMismatchError` when the queue's producers write another store).
 */
export async function startPostgresWorker(options: StartPostgresWorkerOptions): Promise<QueueWorkerHandle> {
  checkOptions('[postgres-queue] startPostgresWorker', options, START_POSTGRES_WORKER_OPTIONS);
  return started(new PostgresQueueBackend({ ...options, worker: true }));
}

/** Starts a worker that runs queued au tasks by name from Supabase (`rpc()`, polling); see `startPostgresWorker`. */
export async function startSupabaseWorker(options: StartSupabaseWorkerOptions): Promise<QueueWorkerHandle> {
  checkOptions('[supabase-queue] startSupabaseWorker', options, START_SUPABASE_WORKER_OPTIONS);
  return started(new SupabaseQueueBackend({ ...options, worker: true }));
}

async function started(backend: QueueBackend): Promise<QueueWorkerHandle> {
  try {
    await backend.ready();
  } catch (error) {
    await backend.close({ timeout: 0 }).catch(() => undefined);
    throw error;
  }
  return { backend, close: (options) => backend.close(options) };
}
