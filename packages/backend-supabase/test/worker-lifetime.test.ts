import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { submitTask } from '@au/core';
import { PostgresStore } from '@au/store-supabase';
import { conformanceTasks, postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend } from '../src/index';
import { startTcpProxy, type TcpProxy } from './fixtures/tcp-proxy';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');
const FIXTURE = fileURLToPath(new URL('./fixtures/idle-worker.ts', import.meta.url));

describe.runIf(postgresUp)('a Postgres worker process', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let store: PostgresStore;
  let producer: PostgresQueueBackend;
  let proxy: TcpProxy;

  beforeAll(async () => {
    database = await freshSchema();
    const { hostname, port } = new URL(postgresUrl());
    proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
    store = new PostgresStore({ connection: database.pool, schema: database.schema });
    producer = new PostgresQueueBackend({
      connection: database.pool,
      schema: database.schema,
      worker: false,
      store,
    });
  });

  afterAll(async () => {
    await producer?.close();
    await store?.close();
    await database?.drop();
    await proxy?.close();
  });

  describe('when the database is out of reach for two seconds (a restart)', () => {
    it('should keep running, reconnect and take new work', async () => {
      const child: ChildProcess = spawn(
        process.execPath,
        [
          '--conditions=@au/source',
          '--import',
          'tsx',
          FIXTURE,
          proxy.through(postgresUrl()),
          database.schema,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = once(child, 'exit');
      try {
        let output = '';
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (chunk) => {
            output += chunk;
            if (output.includes('ready')) resolve();
          });
          child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready`)));
        });
        proxy.cut();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        // Before the fix its listener and pool had no connection left, and the process
        // ended (exit code 0, nothing logged) as soon as the link dropped.
        expect(child.exitCode).toBeNull();
        proxy.restore();
        const handle = await submitTask(conformanceTasks.add, { a: 2, b: 3 }, { store, backend: producer });
        expect(await handle.result({ timeout: 15_000 })).toBe(5);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    }, 60_000);
  });
});
