import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuClient, type InferTasks } from '@au/client';
import { type ComputationRecord, defineMiddleware } from '@au/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as sampleTasks from '../src/sample-tasks';
import { type RunningServer, startServer } from '../src/start-server';
import { type ServerProcess, startServerProcess } from './server-process';

type SampleTasks = InferTasks<typeof sampleTasks>;

// A server process killed mid-run leaves a record `running`; the next start marks it failed
// and announces it to the deadLetter hooks of the server's middleware.
describe('job-server start-up after a crash', { timeout: 60_000 }, () => {
  let dataDir: string;
  let killed: ServerProcess | undefined;
  let restarted: RunningServer | undefined;
  const env = () => ({
    AU_STORE: `fs:${dataDir}`,
    AU_BACKEND: 'inline',
    AU_LOG_LEVEL: 'warn',
    AU_SHUTDOWN_TIMEOUT_MS: '1000',
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'au-job-server-dead-letters-'));
  });
  afterAll(async () => {
    await killed?.stop('SIGKILL');
    await restarted?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should announce the work it left unfinished to the deadLetter hook, once, on the next start', async () => {
    killed = await startServerProcess(env());
    const client = new AuClient<SampleTasks>({ url: killed.url });
    const { taskId } = await client.submit('sleep', { seconds: 120 }, { async: true });
    const finished = await client.submit('factorial', { n: 5 }, { wait: 30 });
    expect(finished.status).toBe('completed');
    for await (const event of client.events(taskId)) if (event.task.status === 'running') break;
    await killed.stop('SIGKILL');
    killed = undefined;

    const dead: ComputationRecord[] = [];
    restarted = await startServer(
      { ...env(), AU_HOST: '127.0.0.1', AU_PORT: '0' },
      pino({ level: 'silent' }),
      {
        middleware: [
          defineMiddleware({
            name: 'dead-letters',
            onDeadLetter: (record) => {
              dead.push(record);
            },
          }),
        ],
      },
    );
    expect(dead.map((record) => [record.key, record.status, record.error?.code])).toEqual([
      [taskId, 'failed', 'AU_SERVER_STOPPED'],
    ]);
    expect(dead[0]).toEqual(await restarted.config.store.get(taskId));
  });
});
