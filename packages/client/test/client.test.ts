import { defineTask, InProcessBackend, MemoryStore } from '@au/core';
import { auHttp } from '@au/http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuClient, AuHttpError, type InferTasks, type TaskEvent, type TaskView } from '../src/index';

const tasks = {
  add: defineTask({
    name: 'add',
    description: 'Adds two numbers',
    input: z.object({ a: z.number(), b: z.number() }),
    run: ({ a, b }) => a + b,
  }),
  wait: defineTask({
    name: 'wait',
    input: z.object({ ms: z.number() }),
    run: async ({ ms }, context) => {
      for (let step = 1; step <= 5; step++) {
        await new Promise((resolve) => setTimeout(resolve, ms / 5));
        context.signal.throwIfAborted();
        context.progress({ step });
      }
      return { waited: ms };
    },
  }),
  crash: defineTask({
    name: 'crash',
    run: (_input: unknown, context) => {
      context.log.error({ step: 1 }, 'about to crash');
      throw new Error('crashed on purpose');
    },
  }),
};

type Tasks = InferTasks<typeof tasks>;

describe('@au/client', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  let backend: InProcessBackend;
  let client: AuClient<Tasks>;
  let url: string;

  beforeAll(async () => {
    store = new MemoryStore();
    backend = new InProcessBackend({ progressInterval: 10 });
    app = Fastify();
    await app.register(auHttp, {
      tasks: Object.values(tasks),
      store,
      backend,
      apiKeys: ['client-test-key'],
      prefix: '/api',
      defaultWait: 5,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api`;
    client = new AuClient<Tasks>({ url, apiKey: 'client-test-key' });
  });

  afterAll(async () => {
    await app.close();
    await backend.close({ timeout: 0 });
    await store.close();
  });

  describe('when submitting', () => {
    it('should return the typed result of a task that ends within the wait', async () => {
      const outcome = await client.submit('add', { a: 2, b: 40 });
      expect(outcome.status).toBe('completed');
      if (outcome.status === 'completed') {
        const sum: number = outcome.result;
        expect(sum).toBe(42);
      }
    });

    it('should return the id at once when async, then the result on request', async () => {
      const submitted = await client.submit('wait', { ms: 200 }, { async: true });
      expect(submitted.status).toBe('pending');
      expect((await client.status(submitted.taskId)).task).toBe('wait');
      const outcome = await client.result<Tasks['wait']['result']>(submitted.taskId, { wait: 5 });
      expect(outcome).toEqual({ taskId: submitted.taskId, status: 'completed', result: { waited: 200 } });
    });

    it('should start a computation after the ones it depends on, and refuse unknown ones', async () => {
      const parent = await client.submit('wait', { ms: 100 }, { async: true });
      const child = await client.submit('add', { a: 1, b: 2 }, { dependsOn: [parent.taskId], wait: 5 });
      expect(child).toMatchObject({ status: 'completed', result: 3 });
      const parentStatus = await client.status(parent.taskId);
      expect(parentStatus.status).toBe('completed');
      const error = await client
        .submit('add', { a: 1, b: 2 }, { dependsOn: ['no-such-id'] })
        .catch((caught: unknown) => caught);
      expect(AuHttpError.isInstance(error) && error.code).toBe('UNKNOWN_DEPENDENCY');
    });

    it('should report a failure as an outcome with the error', async () => {
      const outcome = await client.submit('crash', undefined);
      expect(outcome).toMatchObject({ status: 'failed', error: { message: 'crashed on purpose' } });
    });

    it('should send the launch options, join one key and refuse it for another input', async () => {
      const key = `client-${Math.random().toString(36).slice(2)}`;
      const options = { idempotencyKey: key, priority: 4, delay: 20, tags: ['x', 'y'], ttl: 60 };
      const outcome = await client.submit('add', { a: 1, b: 1 }, options);
      expect(outcome).toMatchObject({ taskId: key, status: 'completed', result: 2 });
      expect(await client.status(key)).toMatchObject({ priority: 4, tags: ['x', 'y'] });
      expect((await client.submit('add', { a: 1, b: 1 }, { idempotencyKey: key })).taskId).toBe(key);
      const conflict = await client
        .submit('add', { a: 2, b: 2 }, { idempotencyKey: key })
        .catch((caught: unknown) => caught);
      expect(AuHttpError.isInstance(conflict)).toBe(true);
      expect((conflict as AuHttpError).status).toBe(409);
      expect((conflict as AuHttpError).code).toBe('KEY_CONFLICT');
      const again = await client.submit('add', { a: 2, b: 2 }, { idempotencyKey: key, idempotencyWindow: 0 });
      expect(again).toMatchObject({ taskId: key, result: 4 });
    });

    it('should throw AuHttpError with the status and body for invalid input', async () => {
      const error = await client.submit('add', { a: 1 } as never).catch((caught: unknown) => caught);
      expect(AuHttpError.isInstance(error)).toBe(true);
      const httpError = error as AuHttpError;
      expect(httpError.status).toBe(400);
      expect(httpError.code).toBe('INVALID_INPUT');
      expect((httpError.body as { error: { issues: unknown[] } }).error.issues).toHaveLength(1);
    });
  });

  describe('when managing computations', () => {
    it('should cancel, list with filters and page', async () => {
      const { taskId } = await client.submit('wait', { ms: 10_000 }, { async: true });
      expect(await client.cancel(taskId)).toEqual({ taskId, cancelled: true, status: 'cancelled' });
      expect(await client.result(taskId)).toMatchObject({ status: 'cancelled' });
      const cancelled = await client.list({ status: 'cancelled' });
      expect(cancelled.items.map((item) => item.taskId)).toContain(taskId);
      const page = await client.list({ task: 'wait', limit: 1 });
      expect(page.items).toHaveLength(1);
      expect(page.cursor).toBeDefined();
    });

    it('should follow status and progress events to the end', async () => {
      const { taskId } = await client.submit('wait', { ms: 300 }, { async: true });
      const events: TaskEvent[] = [];
      for await (const event of client.events(taskId)) events.push(event);
      expect(events.at(-1)?.task.status).toBe('completed');
      expect(events.some((event) => event.type === 'progress')).toBe(true);
      const resumed: TaskEvent[] = [];
      for await (const event of client.events(taskId, { lastEventId: events[0]!.id! })) resumed.push(event);
      expect(resumed.map((event) => event.task.status)).toEqual(['completed']);
    });

    it('should list the served tasks from the OpenAPI document', async () => {
      const served = await client.tasks();
      expect(served.map((task) => task.name)).toEqual(['add', 'crash', 'wait']);
      expect(served[0]).toMatchObject({ description: 'Adds two numbers', inputSchema: { type: 'object' } });
    });
  });

  describe('when retrying and handling dead letters', () => {
    it('should retry, list, count, redrive and purge, and refuse what cannot be done', async () => {
      const crashed = await client.submit('crash', undefined as never, { wait: 5 });
      expect(crashed.status).toBe('failed');
      const { taskId } = crashed;
      const before = await client.countDeadLetters({ task: 'crash' });
      expect(before).toBeGreaterThanOrEqual(1);
      const listed = await client.deadLetters({ task: 'crash', limit: 1000 });
      expect(listed.items.map((item) => item.taskId)).toContain(taskId);

      const reopened = await client.retry(taskId);
      expect(reopened).toMatchObject({ taskId, status: 'pending' });
      expect(reopened.history?.[0]).toMatchObject({ attempt: 1, status: 'failed' });
      expect((await client.result(taskId, { wait: 5 })).status).toBe('failed');
      expect((await client.status(taskId)).history).toHaveLength(1);

      const redriven = await client.redrive({ task: 'crash', since: new Date(Date.now() - 60_000) });
      expect(redriven.taskIds).toContain(taskId);
      expect(redriven.count).toBe(redriven.taskIds.length);
      await client.result(taskId, { wait: 5 });

      const done = await client.submit('add', { a: 1, b: 1 }, { wait: 5 });
      const refused = await client.retry(done.taskId).catch((caught: unknown) => caught);
      expect((refused as AuHttpError).status).toBe(409);
      expect((refused as AuHttpError).code).toBe('RETRY_NOT_ALLOWED');

      expect(await client.purgeDeadLetters({ task: 'crash' })).toBeGreaterThanOrEqual(1);
      expect(await client.countDeadLetters({ task: 'crash' })).toBe(0);
      const nothing = await client.redrive({ task: 'crash' }).catch((caught: unknown) => caught);
      expect((nothing as AuHttpError).status).toBe(404);
      expect((nothing as AuHttpError).code).toBe('NOTHING_TO_REDRIVE');
    });
  });

  describe('when following every task', () => {
    it('should yield the changes of the watched task until aborted', async () => {
      const controller = new AbortController();
      const seen: TaskView[] = [];
      const launched = new Set<string>();
      const following = (async () => {
        for await (const event of client.watch({ task: 'add' }, { signal: controller.signal })) {
          if (event.type === 'change') seen.push(event.task);
        }
      })();
      // The stream opens in the background: launch until one launch is seen to its end.
      const deadline = Date.now() + 5000;
      while (!seen.some((view) => launched.has(view.taskId) && view.status === 'completed')) {
        if (Date.now() > deadline) throw new Error('no change seen');
        await client.submit('crash', undefined);
        launched.add((await client.submit('add', { a: 1, b: 2 })).taskId);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      controller.abort();
      await following;
      expect(seen.every((view) => view.task === 'add')).toBe(true);
      expect(seen.some((view) => view.status === 'pending')).toBe(true);
    });
  });

  describe('when reading logs', () => {
    it('should return the lines a failed task wrote', async () => {
      const outcome = await client.submit('crash', undefined);
      const logs = await client.logs(outcome.taskId);
      expect(logs).toMatchObject({ taskId: outcome.taskId, status: 'failed', dropped: 0 });
      expect(logs.lines).toMatchObject([{ level: 'error', message: 'about to crash', data: { step: 1 } }]);
    });

    it('should reject AuHttpError 404 for an unknown id', async () => {
      const error = await client.logs('no-such-id').catch((caught: unknown) => caught);
      expect(AuHttpError.isInstance(error) && error.status).toBe(404);
    });
  });

  describe('when managing schedules', () => {
    it('should create, read, pause, resume and delete a schedule', async () => {
      const created = await client.createSchedule({
        id: 'nightly-add',
        task: 'add',
        cron: '0 3 * * *',
        input: { a: 1, b: 2 },
      });
      expect(created).toMatchObject({
        id: 'nightly-add',
        task: 'add',
        cron: '0 3 * * *',
        paused: false,
        input: { a: 1, b: 2 },
      });
      expect((await client.schedules()).map((item) => item.id)).toContain('nightly-add');
      expect(await client.pauseSchedule('nightly-add')).toMatchObject({ paused: true });
      expect(await client.schedule('nightly-add')).toMatchObject({ paused: true });
      expect(await client.resumeSchedule('nightly-add')).toMatchObject({ paused: false });
      expect(await client.deleteSchedule('nightly-add')).toEqual({ id: 'nightly-add', deleted: true });
      const missing = await client.schedule('nightly-add').catch((error: unknown) => error);
      expect(AuHttpError.isInstance(missing) && missing.status).toBe(404);
    });

    it('should reject a bad cron expression with AuHttpError 400', async () => {
      const error = await client
        .createSchedule({ task: 'add', cron: 'whenever', input: { a: 1, b: 2 } })
        .catch((caught: unknown) => caught);
      expect(AuHttpError.isInstance(error) && error.status).toBe(400);
      expect((error as AuHttpError).code).toBe('INVALID_SCHEDULE');
    });
  });

  describe('when the request is refused', () => {
    it.each([
      ['an unknown id', () => client.status('no-such-id'), 404, 'NOT_FOUND'],
      ['a malformed id', () => client.result('bad*id'), 400, 'INVALID_ID'],
      ['an unknown task', () => client.submit('nope' as 'add', { a: 1, b: 2 }), 404, 'TASK_NOT_FOUND'],
      ['a missing API key', () => new AuClient({ url }).list(), 401, 'UNAUTHORIZED'],
      ['a wrong API key', () => new AuClient({ url, apiKey: 'wrong' }).list(), 401, 'UNAUTHORIZED'],
    ] as const)('should throw AuHttpError for %s', async (_name, call, status, code) => {
      const error = await (call as () => Promise<unknown>)().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuHttpError);
      expect((error as AuHttpError).status).toBe(status);
      expect((error as AuHttpError).code).toBe(code);
    });

    it('should throw a status-0 AuHttpError when the server cannot be reached', async () => {
      const unreachable = new AuClient({ url: 'http://127.0.0.1:1' });
      const error = await unreachable.list().catch((caught: unknown) => caught);
      expect((error as AuHttpError).status).toBe(0);
      expect((error as AuHttpError).code).toBe('NETWORK');
    });
  });
});
