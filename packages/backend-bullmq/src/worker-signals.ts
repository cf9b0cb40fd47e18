import { CancelledError } from '@au/core';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { cancelChannel, toJobId } from './job-options';
import { pausedTasksChannel } from './paused-tasks';
import type { PausedTasksView } from './paused-tasks-view';
import {
  closeConnection,
  type OpenedConnection,
  openConnection,
  type RedisConnection,
} from './redis-connection';

/**
 * What a worker hears from the rest of the queue, on one subscriber connection:
 * - cancels of active jobs, broadcast on `<prefix>:<queue>:au-cancel` (BullMQ's own cancel
 *   reaches only the worker it is called on): whichever worker runs the job aborts it;
 * - the paused tasks, announced on `pausedTasksChannel` at each pause and resume, kept in
 *   `paused`. It is read once subscribed and again after each reconnect, and forgotten
 *   while the connection is down.
 * Resolves once subscribed and `paused` read (or its read failed: it is tried again every
 * `PAUSED_REFRESH` ms); the returned function unsubscribes and closes the connection.
 */
export async function listenForSignals({
  connection,
  prefix,
  queue,
  running,
  worker,
  paused,
}: {
  connection: RedisConnection;
  prefix: string;
  queue: string;
  running: ReadonlyMap<string, (reason: unknown) => void>;
  worker: Worker;
  paused: PausedTasksView;
}): Promise<() => Promise<void>> {
  const subscriber: OpenedConnection =
    connection instanceof Redis
      ? { redis: connection.duplicate({ maxRetriesPerRequest: null }), owned: true }
      : openConnection(connection, 'worker');
  const cancels = cancelChannel(prefix, queue);
  const pauses = pausedTasksChannel(prefix, queue);
  subscriber.redis.on('error', () => undefined);
  subscriber.redis.on('message', (channel: string, message: string) => {
    if (channel === pauses) paused.take(message);
    else if (channel === cancels) cancelRunning(message, running, worker);
  });
  subscriber.redis.on('close', () => paused.forget());
  let subscribed = false;
  subscriber.redis.on('ready', () => {
    // ioredis subscribes again as it gets ready; this subscribe is answered after that one,
    // so the read that follows cannot miss an announcement made in between.
    if (subscribed)
      subscriber.redis
        .subscribe(cancels, pauses)
        .then(() => paused.refresh())
        .catch(() => undefined);
  });
  try {
    await subscriber.redis.subscribe(cancels, pauses);
    subscribed = true;
  } catch (error) {
    await closeConnection(subscriber);
    throw error;
  }
  // A failed first read is no reason to refuse the worker: jobs ask Redis until a read lands.
  await paused.refresh().catch(() => undefined);
  paused.start();
  return async () => {
    paused.stop();
    await closeConnection(subscriber);
  };
}

function cancelRunning(
  message: string,
  running: ReadonlyMap<string, (reason: unknown) => void>,
  worker: Worker,
): void {
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
}
