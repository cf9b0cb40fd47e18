import type { CloseOptions } from '@au/core';
import { PostgresQueueBackend, type PostgresQueueBackendOptions } from './postgres-queue-backend';
import type { QueueBackend } from './queue-backend';
import type { QueueBackendOptions } from './queue-backend-options';
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

/** Starts a worker that runs queued au tasks by name from PostgreSQL (`pg`, LISTEN/NOTIFY). */
export async function startPostgresWorker(options: StartPostgresWorkerOptions): Promise<QueueWorkerHandle> {
  return started(new PostgresQueueBackend({ ...options, worker: true }));
}

/** Starts a worker that runs queued au tasks by name from Supabase (`rpc()`, polling). */
export async function startSupabaseWorker(options: StartSupabaseWorkerOptions): Promise<QueueWorkerHandle> {
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
