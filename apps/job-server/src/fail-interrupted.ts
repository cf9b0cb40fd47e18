import {
  ACTIVE_STATUSES,
  type ComputationBackend,
  type ComputationStore,
  type Middleware,
  type TaskLogger,
} from '@au/core';
import { failComputation, notifyDeadLetter } from '@au/core/kit';
import { ServerStoppedError } from './errors/server-stopped-error';

/**
 * Whether some of the backend's work may live on outside this process: a durable backend,
 * or a RoutingBackend (`AU_ROUTES`) with a durable backend among its routes, whose
 * pending records must not be failed (a record does not say which route took it).
 */
function keepsDurableWork(backend: ComputationBackend): boolean {
  if (backend.capabilities.durable) return true;
  const routed = (backend as { backends?: readonly ComputationBackend[] }).backends;
  return routed?.some(keepsDurableWork) ?? false;
}

/**
 * Reports honestly what a previous process left unfinished. With a backend that keeps
 * work only in this process's memory (inline, threads, process), a record still
 * `pending` or `running` at start-up belongs to work that died with the previous
 * process: it is marked `failed` with a `ServerStoppedError`, so clients waiting on it
 * learn so instead of waiting forever. Durable backends (queues in Redis or Postgres)
 * keep their work: nothing is touched. Each record marked is a dead letter, announced to
 * the `deadLetter` hooks of `middleware` (the server's) once it is written. Returns how
 * many records were marked.
 *
 * Run it before the server accepts work, and only when this server is the one process
 * using the store with a local backend.
 */
export async function failInterrupted(
  store: ComputationStore,
  backend: ComputationBackend,
  {
    logger,
    now = Date.now(),
    middleware = [],
  }: { logger: TaskLogger; now?: number; middleware?: readonly Middleware[] },
): Promise<number> {
  if (keepsDurableWork(backend)) return 0;
  let marked = 0;
  let cursor: string | undefined;
  const keys: { key: string; status: string; ttl: number | undefined }[] = [];
  do {
    const page = await store.list({ status: ACTIVE_STATUSES, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const record of page.records) {
      if (record.createdAt <= now) keys.push({ key: record.key, status: record.status, ttl: record.ttl });
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  for (const { key, status, ttl } of keys) {
    // `pending|running → failed` in one conditional write: a record that ended meanwhile is left as it is.
    const failed = await failComputation(
      store,
      key,
      {
        error: new ServerStoppedError({ key, status }),
        from: 'active',
        finishedAt: now,
        ttl: ttl ?? null,
      },
      { logger },
    );
    if (failed === undefined) continue;
    marked++;
    await notifyDeadLetter(middleware, failed, logger);
  }
  if (marked > 0) {
    logger.warn(
      { count: marked },
      `marked ${marked} computation(s) left unfinished by a previous run as failed`,
    );
  }
  return marked;
}
