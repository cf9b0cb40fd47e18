/**
 * @au/testing/lock-contender: the child-process side of `testLocksAcrossProcesses`,
 * without the suites' vitest import, so a plain Node process can load it.
 */
import { type LockProvider, withLock } from '@au/core';

/** What the parent tells a contender when it enters or leaves the lock. */
interface Reply {
  type: 'reply';
  seq: number;
  /** `hang`: stay inside the lock until killed. */
  action: 'ok' | 'hang';
}
interface Start {
  type: 'start';
  key: string;
  ttl: number;
}

/**
 * Runs one contender of `testLocksAcrossProcesses` in this child process: takes the
 * lock the parent names again and again (`withLock`, waiting as long as it takes),
 * reporting each entry and exit with its fencing token and waiting for the parent's
 * answer before going on, until the parent says stop. Then closes `locks` and
 * disconnects, so the process can end.
 *
 * ```ts
 * // fixtures/lock-contender.ts
 * import { runLockContender } from '@au/testing/lock-contender';
 * await runLockContender(new RedisLocks({ redis: url, prefix: process.argv[2] }));
 * ```
 */
export async function runLockContender(locks: LockProvider): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined)
    throw new Error('[au] [testing] runLockContender runs in a child started with an IPC channel');
  const stop = new AbortController();
  const replies = new Map<number, (reply: Reply) => void>();
  let seq = 0;
  const start = new Promise<Start>((resolve) => {
    process.on('message', (message: Start | Reply | { type: 'stop' }) => {
      if (message.type === 'start') resolve(message);
      else if (message.type === 'stop') stop.abort(new Error('stopped'));
      else replies.get(message.seq)?.(message);
    });
  });
  const ask = (type: 'enter' | 'exit', token: number) =>
    new Promise<Reply>((resolve) => {
      seq += 1;
      replies.set(seq, resolve);
      send({ type, seq, token });
    });
  send({ type: 'ready' });
  const { key, ttl } = await start;
  while (!stop.signal.aborted) {
    try {
      await withLock(
        locks,
        key,
        async ({ token }) => {
          const entered = await ask('enter', token);
          if (entered.action === 'hang') await new Promise(() => undefined);
          // A little work while holding, so that others really wait.
          await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 20)));
          await ask('exit', token);
        },
        { ttl, wait: Number.POSITIVE_INFINITY, signal: stop.signal },
      );
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
  }
  await locks.close?.();
  process.disconnect();
}
