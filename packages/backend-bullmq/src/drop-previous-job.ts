import type { Queue } from 'bullmq';
import { PreviousJobActiveError } from './errors/previous-job-active-error';
import { toJobId } from './job-options';

/** Ms between two looks at a previous job still held by its worker. */
const POLL_INTERVAL = 50;

/**
 * Before a key runs again (`invocation.replaces`): removes the job its previous run left
 * under the same job id, which BullMQ keeps when `removeOnComplete` / `removeOnFail` say so
 * (and briefly while the worker moves it). Otherwise `add` would take the new job for a
 * duplicate and the new computation would never run. A job still active (its worker is
 * letting it go) is waited for, up to `timeout` ms.
 */
export async function dropPreviousJob(queue: Queue, key: string, timeout: number): Promise<void> {
  const jobId = toJobId(key);
  const deadline = Date.now() + timeout;
  for (;;) {
    const state = await queue.getJobState(jobId);
    if (state === 'unknown') return;
    // Any state but active: its record was replaced, so the old job has nothing left to do.
    if (state !== 'active' && (await queue.remove(jobId)) === 1) return;
    if (Date.now() >= deadline) throw new PreviousJobActiveError({ key, queue: queue.name });
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL));
  }
}
