import {
  CancelledError,
  type ComputationBackend,
  type ComputationRecord,
  InProcessBackend,
  MemoryStore,
  TaskRegistry,
} from '@au/core';
import { recordCancelled } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/build-server';
import { run as runWorker } from '../src/commands/worker';
import { StartupCheckError } from '../src/errors/startup-check-error';
import { UsageError } from '../src/errors/usage-error';
import { failInterrupted } from '../src/fail-interrupted';
import * as sampleTasks from '../src/sample-tasks';
import { readServerSettings } from '../src/server-settings';
import { startServer } from '../src/start-server';

const silent = pino({ level: 'silent' });

function record(key: string, status: ComputationRecord['status'], extra: Partial<ComputationRecord> = {}) {
  return { key, task: 'sleep', status, attempt: 1, maxAttempts: 1, createdAt: 1000, ...extra };
}

describe('job server app', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  let backend: InProcessBackend;

  beforeAll(async () => {
    store = new MemoryStore();
    backend = new InProcessBackend({ progressInterval: 10 });
    app = await buildServer({
      store,
      backend,
      tasks: new TaskRegistry(Object.values(sampleTasks)),
      settings: readServerSettings({}),
      logger: silent,
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await backend.close({ timeout: 0 });
    await store.close();
  });

  describe('when running the sample tasks', () => {
    it('should give big factorials as exact decimal strings', async () => {
      const response = await app.inject({ method: 'POST', url: '/factorial', payload: { n: 100 } });
      const { result } = response.json();
      expect(result).toHaveLength(158);
      expect(result.startsWith('93326215443944152681')).toBe(true);
      expect(result.endsWith('0'.repeat(24))).toBe(true);
    });

    it('should count primes with progress', async () => {
      const { taskId } = (
        await app.inject({ method: 'POST', url: '/primes?async=true', payload: { limit: 100_000 } })
      ).json();
      const done = (await app.inject(`/tasks/${taskId}/result?wait=30`)).json();
      expect(done.result).toEqual({ limit: 100_000, count: 9592 });
      expect((await app.inject(`/tasks/${taskId}`)).json().progress).toMatchObject({ total: 100_000 });
    });

    it('should let a sleep be cancelled', async () => {
      const { taskId } = (
        await app.inject({ method: 'POST', url: '/sleep?async=true', payload: { seconds: 30 } })
      ).json();
      expect((await app.inject({ method: 'DELETE', url: `/tasks/${taskId}` })).json().cancelled).toBe(true);
      expect((await app.inject(`/tasks/${taskId}/result`)).statusCode).toBe(409);
    });

    it('should fail the fail task with its message', async () => {
      const response = await app.inject({ method: 'POST', url: '/fail', payload: { message: 'nope' } });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toEqual({ code: 'SAMPLE_FAILURE', name: 'Error', message: 'nope' });
    });

    it('should keep the lines the sample tasks log, readable at /tasks/{id}/logs', async () => {
      const { taskId } = (
        await app.inject({ method: 'POST', url: '/fail?async=true', payload: { message: 'nope' } })
      ).json();
      await app.inject(`/tasks/${taskId}/result?wait=10`);
      const logs = (await app.inject(`/tasks/${taskId}/logs`)).json();
      expect(logs).toMatchObject({
        status: 'failed',
        lines: [{ level: 'error', message: 'failing on purpose' }],
      });
      const document = (await app.inject('/openapi.json')).json();
      expect(document.paths).toHaveProperty(['/events']);
      expect(document.paths).toHaveProperty(['/tasks/{id}/logs']);
    });

    it('should describe the sample tasks in OpenAPI', async () => {
      const document = (await app.inject('/openapi.json')).json();
      for (const name of ['factorial', 'primes', 'sleep', 'fail'])
        expect(document.paths).toHaveProperty(`/${name}`);
      expect(
        document.paths['/factorial'].post.requestBody.content['application/json'].schema.properties.n,
      ).toMatchObject({
        type: 'integer',
        maximum: 20_000,
      });
    });
  });
});

describe('failInterrupted', () => {
  describe('when the backend keeps work in this process', () => {
    it('should mark pending and running records failed, and leave finished ones alone', async () => {
      const store = new MemoryStore();
      await store.create(record('was-running', 'running', { ttl: 60 }));
      await store.create(record('was-pending', 'pending'));
      await store.create(record('was-done', 'completed', { value: 1 }));
      const now = Date.now();
      const marked = await failInterrupted(store, new InProcessBackend(), { logger: silent, now });
      expect(marked).toBe(2);
      const running = await store.get('was-running');
      expect(running).toMatchObject({ status: 'failed', finishedAt: now, expiresAt: now + 60_000 });
      expect(running?.error).toMatchObject({ code: 'AU_SERVER_STOPPED', name: 'ServerStoppedError' });
      expect(running?.error?.message).toContain('the server stopped before "was-running" finished');
      const pending = await store.get('was-pending');
      expect(pending).toMatchObject({ status: 'failed', finishedAt: now, attempt: 1 });
      expect(pending?.error?.message).toContain('(it was pending)');
      // Failed straight from pending: it never started, so no claim wrote a start time.
      expect(pending?.startedAt).toBeUndefined();
      expect(pending?.expiresAt).toBeUndefined();
      expect((await store.get('was-done'))?.status).toBe('completed');
      await store.close();
    });
  });

  describe('when a record ends between the listing and the write', () => {
    it('should leave it as it ended and not count it', async () => {
      // A store whose listing is followed at once by a cancel, as a late client's would be.
      class RacingStore extends MemoryStore {
        override async list(query?: Parameters<MemoryStore['list']>[0]) {
          const page = await super.list(query);
          await recordCancelled({ store: this, key: 'raced', error: new CancelledError({ key: 'raced' }) });
          return page;
        }
      }
      const store = new RacingStore();
      await store.create(record('raced', 'running'));
      await store.create(record('left', 'running'));
      expect(await failInterrupted(store, new InProcessBackend(), { logger: silent })).toBe(1);
      expect((await store.get('raced'))?.status).toBe('cancelled');
      expect((await store.get('left'))?.status).toBe('failed');
      await store.close();
    });
  });

  describe('when the backend is durable', () => {
    it('should touch nothing', async () => {
      const store = new MemoryStore();
      await store.create(record('queued', 'pending'));
      const durable = { capabilities: { durable: true } } as ComputationBackend;
      expect(await failInterrupted(store, durable, { logger: silent })).toBe(0);
      expect((await store.get('queued'))?.status).toBe('pending');
      await store.close();
    });
  });
});

describe('worker command', () => {
  describe('when the backend is not distributed', () => {
    it.each(['threads', 'inline', 'process'])(
      'should explain and exit with code 2 for %s',
      async (backendName) => {
        const error = await runWorker({ env: { AU_BACKEND: backendName, AU_LOG_LEVEL: 'silent' } }).catch(
          (caught: unknown) => caught,
        );
        expect(UsageError.isInstance(error)).toBe(true);
        expect((error as UsageError).exitCode).toBe(2);
        expect((error as UsageError).message).toContain(
          `AU_BACKEND=${backendName} runs work inside the server`,
        );
      },
    );
  });
});

describe('startServer', () => {
  /** What `startServer` throws for this environment (it must not start). */
  const startFailure = (env: Record<string, string>) =>
    startServer({ AU_PORT: '0', AU_BACKEND: 'inline', ...env }, silent).then(
      async (running) => {
        await running.close();
        throw new Error('the server started');
      },
      (error: unknown) => error as Error,
    );

  describe('when the store does not answer', () => {
    it('should refuse to start with StartupCheckError naming the store', async () => {
      const error = await startFailure({ AU_STORE: 'redis://127.0.0.1:1' });
      expect(StartupCheckError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/the store \(redis:\/\/127\.0\.0\.1:1\) did not answer/);
    }, 30_000);
  });

  describe('when the Postgres migration was not applied', () => {
    it('should refuse to start and say how to apply it', async () => {
      const url = process.env.AU_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
      const schema = `au_unmigrated_${Date.now()}`;
      const error = await startFailure({ AU_STORE: `${url}?schema=${schema}` });
      expect(StartupCheckError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/au-supabase migrate/);
    }, 30_000);
  });
});
