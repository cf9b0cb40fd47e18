import { ACTIVE_STATUSES, type ComputationBackend, type ComputationStore, type TaskLogger } from '@au/core';
import { serializeError } from '@au/core/kit';
import { ServerStoppedError } from './errors/server-stopped-error';

/**
 * Reports honestly what a previous process left unfinished. With a backend that keeps
 * work only in this process's memory (inline, threads, process), a record still
 * `pending` or `running` at start-up belongs to work that died with the previous
 * process: it is marked `failed` with a `ServerStoppedError`, so clients waiting on it
 * learn so instead of waiting forever. Durable backends (queues in Redis or Postgres)
 * keep their work: nothing is touched. Returns how many records were marked.
 *
 * Run it before the server accepts work, and only when this server is the one process
 * using the store with a local backend.
 */
export async function failInterrupted(
  store: ComputationStore,
  backend: ComputationBackend,
  { logger, now = Date.now() }: { logger: TaskLogger; now?: number },
): Promise<number> {
  if (backend.capabilities.durable) return 0;
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
    // The status machine has no `pending → failed`: a pending record is claimed first.
    if (status === 'pending') {
      const claimed = await store.update(
        key,
        { status: 'running', startedAt: now },
        { ifStatus: ['pending'] },
      );
      if (claimed === undefined) continue;
    }
    const updated = await store.update(
      key,
      {
        status: 'failed',
        error: serializeError(new ServerStoppedError({ key, status })),
        finishedAt: now,
        ...(ttl === undefined ? {} : { expiresAt: now + ttl * 1000 }),
      },
      { ifStatus: ['running'] },
    );
    if (updated !== undefined) marked++;
  }
  if (marked > 0) {
    logger.warn(
      { count: marked },
      `marked ${marked} computation(s) left unfinished by a previous run as failed`,
    );
  }
  return marked;
}
