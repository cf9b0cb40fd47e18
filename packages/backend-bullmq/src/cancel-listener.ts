import { CancelledError } from '@au/core';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { cancelChannel, toJobId } from './job-options';
import {
  closeConnection,
  type OpenedConnection,
  openConnection,
  type RedisConnection,
} from './redis-connection';

/**
 * Cancels of active jobs arrive as broadcasts on `<prefix>:<queue>:au-cancel` (BullMQ's own
 * cancel reaches only the worker it is called on): whichever worker runs the job aborts it.
 * Resolves once subscribed; the returned function unsubscribes and closes the connection.
 */
export async function listenForCancels({
  connection,
  prefix,
  queue,
  running,
  worker,
}: {
  connection: RedisConnection;
  prefix: string;
  queue: string;
  running: ReadonlyMap<string, (reason: unknown) => void>;
  worker: Worker;
}): Promise<() => Promise<void>> {
  const subscriber: OpenedConnection =
    connection instanceof Redis
      ? { redis: connection.duplicate({ maxRetriesPerRequest: null }), owned: true }
      : openConnection(connection, 'worker');
  subscriber.redis.on('error', () => undefined);
  subscriber.redis.on('message', (_channel: string, message: string) => {
    let request: { key?: string; reason?: string };
    try {
      request = JSON.parse(message) as { key?: string; reason?: string };
    } catch {
      return;
    }
    if (typeof request.key !== 'string') return;
    const abort = running.get(request.key);
    if (abort === undefined) return;
    abort(
      new CancelledError({
        key: request.key,
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      }),
    );
    worker.cancelJob(toJobId(request.key), request.reason);
  });
  try {
    await subscriber.redis.subscribe(cancelChannel(prefix, queue));
  } catch (error) {
    await closeConnection(subscriber);
    throw error;
  }
  return () => closeConnection(subscriber);
}
