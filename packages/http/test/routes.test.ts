import {
  AuError,
  type ComputationRecord,
  InProcessBackend,
  type ListPage,
  type ListQuery,
  LockUnavailableError,
  MemoryStore,
} from '@au/core';
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorAnswer } from '../src/error-handler';
import { auHttp } from '../src/index';
import { boom, buildApp, double, parseEventStream } from './fixtures';

interface Built {
  app: FastifyInstance;
  store: MemoryStore;
  backend: InProcessBackend;
}

async function post(
  app: FastifyInstance,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({ method: 'POST', url, payload: payload as object, headers });
}

function waitUntil(check: () => Promise<boolean>, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  return (async () => {
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
}

describe('@au/http routes', () => {
  let built: Built;
  beforeAll(async () => {
    built = await buildApp();
  });
  afterAll(async () => {
    await built.app.close();
    await built.backend.close();
    await built.store.close();
  });

  describe('when a task is posted', () => {
    it('should answer 200 with the result when it ends within the wait', async () => {
      const response = await post(built.app, '/double', { x: 21 });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ status: 'completed', result: 42 });
      expect(response.headers.location).toBe(`/tasks/${body.taskId}`);
    });

    it('should answer 202 at once with ?async=true and with Prefer: respond-async', async () => {
      for (const [url, headers] of [
        ['/slow?async=true', {}],
        ['/slow', { prefer: 'respond-async' }],
      ] as const) {
        const response = await post(built.app, url, { ms: 300 }, headers);
        expect(response.statusCode).toBe(202);
        const body = response.json();
        expect(body.status).toBe('pending');
        expect(response.headers.location).toBe(`/tasks/${body.taskId}`);
      }
    });

    it('should answer 202 when the wait passes before the result', async () => {
      const response = await post(built.app, '/slow?wait=0.05', { ms: 2000 });
      expect(response.statusCode).toBe(202);
      await built.app.inject({ method: 'DELETE', url: `/tasks/${response.json().taskId}` });
    });

    it('should answer 409 with the error, without its stack, when the task fails', async () => {
      const response = await post(built.app, '/boom', {});
      expect(response.statusCode).toBe(409);
      const body = response.json();
      expect(body.status).toBe('failed');
      expect(body.error).toEqual({ code: 'E_BOOM', name: 'Error', message: 'boom: this task always fails' });
      expect(response.body).not.toContain('at ');
    });

    it('should serve a task whose name holds a colon', async () => {
      const response = await post(built.app, '/ns:echo', { a: [1, 2] });
      expect(response.statusCode).toBe(200);
      expect(response.json().result).toEqual({ a: [1, 2] });
    });

    it('should give one computation for one Idempotency-Key', async () => {
      const headers = { 'idempotency-key': `order-${Math.random().toString(36).slice(2)}` };
      const first = await post(built.app, '/double', { x: 1 }, headers);
      const second = await post(built.app, '/double', { x: 1 }, headers);
      expect(first.json().taskId).toBe(headers['idempotency-key']);
      expect(second.json().taskId).toBe(headers['idempotency-key']);
      expect(second.json().result).toBe(2);
    });
  });

  describe('when the request is bad', () => {
    const cases: {
      name: string;
      url: string;
      payload?: string;
      headers?: Record<string, string>;
      status: number;
      code: string;
    }[] = [
      {
        name: 'malformed JSON',
        url: '/double',
        payload: '{"x": ',
        headers: { 'content-type': 'application/json' },
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        name: 'a wrong type',
        url: '/double',
        payload: '{"x":"seven"}',
        headers: { 'content-type': 'application/json' },
        status: 400,
        code: 'INVALID_INPUT',
      },
      {
        name: 'a missing field',
        url: '/double',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
        status: 400,
        code: 'INVALID_INPUT',
      },
      { name: 'no body at all', url: '/double', status: 400, code: 'INVALID_INPUT' },
      {
        name: 'an oversize body',
        url: '/double',
        payload: JSON.stringify({ x: 1, pad: 'a'.repeat(2_000_000) }),
        headers: { 'content-type': 'application/json' },
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'a body that is not JSON',
        url: '/double',
        payload: 'x=1',
        headers: { 'content-type': 'text/plain' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'an unknown task',
        url: '/nope',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
        status: 404,
        code: 'TASK_NOT_FOUND',
      },
      {
        name: 'a bad ?wait=',
        url: '/double?wait=soon',
        payload: '{"x":1}',
        headers: { 'content-type': 'application/json' },
        status: 400,
        code: 'INVALID_QUERY',
      },
      {
        name: 'a malformed Idempotency-Key',
        url: '/double',
        payload: '{"x":1}',
        headers: { 'content-type': 'application/json', 'idempotency-key': '../etc' },
        status: 400,
        code: 'INVALID_ID',
      },
    ];

    it.each(cases)('should answer $status $code to $name, write nothing, and keep serving', async (bad) => {
      const before = (await built.store.list({ limit: 1000 })).records.length;
      const response = await built.app.inject({
        method: 'POST',
        url: bad.url,
        ...(bad.payload === undefined ? {} : { payload: bad.payload }),
        headers: bad.headers ?? {},
      });
      expect(response.statusCode).toBe(bad.status);
      expect(response.headers['content-type']).toContain('application/json');
      const body = response.json();
      expect(body.error.code).toBe(bad.code);
      expect(typeof body.error.message).toBe('string');
      expect(response.body).not.toMatch(/\n\s+at /);
      expect((await built.store.list({ limit: 1000 })).records.length).toBe(before);
      expect((await post(built.app, '/double', { x: 2 })).json().result).toBe(4);
    });

    it('should list the zod issues of invalid input', async () => {
      const response = await post(built.app, '/double', { x: 'seven' });
      expect(response.json().error.issues).toEqual([
        expect.objectContaining({ path: ['x'], code: 'invalid_type' }),
      ]);
    });

    it.each([
      ['GET', '/tasks/bad*id', 400, 'INVALID_ID'],
      ['GET', '/tasks/bad%2Fid/result', 400, 'INVALID_ID'],
      ['DELETE', '/tasks/bad*id', 400, 'INVALID_ID'],
      ['GET', '/tasks/01a208dd-0000-7000-8000-000000000000', 404, 'NOT_FOUND'],
      ['GET', '/tasks/unknown-id/result', 404, 'NOT_FOUND'],
      ['GET', '/tasks/unknown-id/events', 404, 'NOT_FOUND'],
      ['DELETE', '/tasks/unknown-id', 404, 'NOT_FOUND'],
      ['GET', '/tasks?status=done', 400, 'INVALID_QUERY'],
      ['GET', '/tasks?limit=0', 400, 'INVALID_QUERY'],
      ['GET', '/tasks?cursor=nonsense', 400, 'INVALID_CURSOR'],
      ['GET', '/no/such/route', 404, 'NOT_FOUND'],
    ] as const)('should answer %s %s with %i %s', async (method, url, status, code) => {
      const response = await built.app.inject({ method, url });
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
    });
  });

  describe('when reading computations', () => {
    it('should list newest first with filters and cursor paging', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const app = Fastify();
      await app.register(auHttp, { tasks: [double, boom], store, backend, openapi: false, metrics: false });
      const ids: string[] = [];
      for (const x of [1, 2, 3]) ids.push((await post(app, '/double', { x })).json().taskId);
      await post(app, '/boom', {});
      const all = (await app.inject('/tasks')).json();
      expect(all.items.map((item: { taskId: string }) => item.taskId).slice(1)).toEqual([...ids].reverse());
      const failed = (await app.inject('/tasks?status=failed')).json();
      expect(failed.items.map((item: { task: string }) => item.task)).toEqual(['boom']);
      const byTask = (await app.inject('/tasks?task=double&status=completed,failed')).json();
      expect(byTask.items).toHaveLength(3);
      const first = (await app.inject('/tasks?task=double&limit=2')).json();
      expect(first.items).toHaveLength(2);
      const second = (await app.inject(`/tasks?task=double&limit=2&cursor=${first.cursor}`)).json();
      expect(second.items.map((item: { taskId: string }) => item.taskId)).toEqual([ids[0]]);
      expect(second.cursor).toBeUndefined();
      await app.close();
      await backend.close();
      await store.close();
    });

    it('should show status and progress, then the result', async () => {
      const { taskId } = (await post(built.app, '/slow?async=true', { ms: 400 })).json();
      const running = await built.app.inject(`/tasks/${taskId}/result`);
      expect(running.statusCode).toBe(202);
      await waitUntil(async () => (await built.app.inject(`/tasks/${taskId}`)).json().progress !== undefined);
      const view = (await built.app.inject(`/tasks/${taskId}`)).json();
      expect(view).toMatchObject({ taskId, task: 'slow', status: 'running', attempt: 1 });
      expect(view.progress.total).toBe(10);
      expect(view).not.toHaveProperty('args');
      const done = await built.app.inject(`/tasks/${taskId}/result?wait=5`);
      expect(done.statusCode).toBe(200);
      expect(done.json()).toEqual({ taskId, status: 'completed', result: 'slept' });
    });

    it('should cancel a running computation once, then answer 409 for its result', async () => {
      const { taskId } = (await post(built.app, '/slow?async=true', { ms: 5000 })).json();
      const first = await built.app.inject({ method: 'DELETE', url: `/tasks/${taskId}` });
      expect(first.json()).toEqual({ taskId, cancelled: true, status: 'cancelled' });
      const second = await built.app.inject({ method: 'DELETE', url: `/tasks/${taskId}` });
      expect(second.json()).toEqual({ taskId, cancelled: false, status: 'cancelled' });
      const result = await built.app.inject(`/tasks/${taskId}/result`);
      expect(result.statusCode).toBe(409);
      expect(result.json()).toMatchObject({ status: 'cancelled', error: { name: 'CancelledError' } });
    });
  });

  describe('when following events', () => {
    const parse = (body: string) => parseEventStream<Record<string, unknown>>(body);

    it('should stream status and progress until the end, with ids that resume', async () => {
      const { taskId } = (await post(built.app, '/slow?async=true', { ms: 300 })).json();
      const response = await built.app.inject(`/tasks/${taskId}/events`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/event-stream');
      const events = parse(response.body);
      expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'completed' } });
      expect(events.some((event) => event.event === 'progress')).toBe(true);
      expect(new Set(events.map((event) => event.id)).size).toBe(events.length);

      const resumedAtEnd = await built.app.inject({
        url: `/tasks/${taskId}/events`,
        headers: { 'last-event-id': events.at(-1)!.id },
      });
      expect(parse(resumedAtEnd.body)).toEqual([]);
      const resumedEarly = await built.app.inject({
        url: `/tasks/${taskId}/events`,
        headers: { 'last-event-id': events[0]!.id },
      });
      expect(parse(resumedEarly.body).map((event) => event.data.status)).toEqual(['completed']);
    });

    it('should end open streams when the server closes', async () => {
      const { app, backend, store } = await buildApp();
      const { taskId } = (await post(app, '/slow?async=true', { ms: 30_000 })).json();
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${address.port}/tasks/${taskId}/events`);
      const reader = response.body!.getReader();
      await reader.read();
      const closed = app.close();
      while (!(await reader.read()).done) {
        // drain until the server ends the stream
      }
      await closed;
      await backend.close({ timeout: 0 });
      await store.close();
    });
  });

  describe('when API keys are configured', () => {
    let secured: Built;
    beforeAll(async () => {
      secured = await buildApp({ apiKeys: ['first-key', 'second-key'] });
    });
    afterAll(async () => {
      await secured.app.close();
      await secured.backend.close();
      await secured.store.close();
    });

    it.each([
      ['no Authorization header', {}],
      ['a wrong key', { authorization: 'Bearer nope' }],
      ['another scheme', { authorization: 'Basic Zmlyc3Qta2V5' }],
    ])('should answer 401 JSON to %s', async (_name, headers) => {
      for (const [method, url] of [
        ['POST', '/double'],
        ['GET', '/tasks'],
        ['GET', '/tasks/some-id'],
        ['GET', '/metrics'],
        ['POST', '/nope'],
      ] as const) {
        const response = await secured.app.inject({
          method,
          url,
          headers,
          payload: method === 'POST' ? { x: 1 } : undefined,
        });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        expect(response.json().error.code).toBe('UNAUTHORIZED');
        expect(response.headers['www-authenticate']).toBe('Bearer');
      }
      expect((await secured.store.list()).records).toEqual([]);
    });

    it('should accept every configured key', async () => {
      for (const key of ['first-key', 'second-key']) {
        const response = await post(secured.app, '/double', { x: 5 }, { authorization: `Bearer ${key}` });
        expect(response.json().result).toBe(10);
      }
    });

    it('should leave health probes and docs open', async () => {
      for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
        expect((await secured.app.inject(url)).statusCode, url).toBe(200);
      }
    });
  });

  describe('when describing the API', () => {
    it('should generate OpenAPI 3 from the zod schemas', async () => {
      const document = (await built.app.inject('/openapi.json')).json();
      expect(document.openapi).toMatch(/^3\./);
      const operation = document.paths['/double'].post;
      expect(operation.description).toBe('Doubles a number');
      expect(operation.requestBody.content['application/json'].schema).toMatchObject({
        type: 'object',
        properties: { x: { type: 'number' } },
        required: ['x'],
      });
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/tasks', '/tasks/{id}', '/tasks/{id}/result', '/tasks/{id}/events']),
      );
    });

    it('should serve the docs page with local assets only', async () => {
      const page = await built.app.inject('/docs');
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)/);
      const bundle = await built.app.inject('/docs/static/swagger-ui-bundle.js');
      expect(bundle.statusCode).toBe(200);
    });
  });

  describe('when probing health', () => {
    it('should report live, ready and metrics', async () => {
      expect((await built.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      expect((await built.app.inject('/readyz')).json()).toEqual({
        status: 'ready',
        checks: { store: 'ok', backend: 'ok' },
      });
      await post(built.app, '/double', { x: 3 });
      const metrics = await built.app.inject('/metrics');
      expect(metrics.headers['content-type']).toContain('text/plain');
      expect(metrics.body).toMatch(
        /au_http_requests_total\{method="POST",route="\/double",status="200"\} \d+/,
      );
      expect(metrics.body).toMatch(/au_computations_total\{task="double",status="completed"\} \d+/);
    });

    it('should answer 503 on /readyz when the store is closed', async () => {
      const store = new MemoryStore();
      const app = Fastify();
      await app.register(auHttp, { tasks: [double], store, openapi: false, metrics: false });
      await store.close();
      const response = await app.inject('/readyz');
      expect(response.statusCode).toBe(503);
      expect(response.json().checks.store).toMatch(/^error: /);
      await app.close();
    });
  });

  describe('when the store fails unexpectedly', () => {
    it('should answer 500 JSON without a stack and keep serving', async () => {
      class BrokenStore extends MemoryStore {
        broken = true;
        override async get(key: string): Promise<ComputationRecord | undefined> {
          if (this.broken) throw new Error('disk on fire at /secret/path');
          return super.get(key);
        }
      }
      const store = new BrokenStore();
      const app = Fastify({ logger: false });
      await app.register(auHttp, { tasks: [double], store, openapi: false, metrics: false });
      const response = await app.inject('/tasks/some-id');
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({
        error: { code: 'INTERNAL', message: 'internal server error: the server log has the details' },
      });
      store.broken = false;
      expect((await app.inject('/tasks/some-id')).statusCode).toBe(404);
      await app.close();
      await store.close();
    });
  });

  describe('when the store cannot be reached', () => {
    it('should answer 503 with Retry-After, keep the host out of the answer, and serve again once it is back', async () => {
      /** What a store package throws during an outage (`AU_<WHAT>_UNAVAILABLE`, like RedisUnavailableError). */
      class StoreDownError extends AuError {
        constructor() {
          super('AU_DATABASE_UNAVAILABLE', {
            message: 'connect ECONNREFUSED 10.1.2.3:5432 (check AU_STORE)',
          });
        }
      }
      class DownStore extends MemoryStore {
        down = true;
        override async get(key: string): Promise<ComputationRecord | undefined> {
          if (this.down) throw new StoreDownError();
          return super.get(key);
        }
        override async create(record: ComputationRecord): Promise<void> {
          if (this.down) throw new StoreDownError();
          return super.create(record);
        }
        override async list(query?: ListQuery): Promise<ListPage> {
          if (this.down) throw new StoreDownError();
          return super.list(query);
        }
      }
      const store = new DownStore();
      const backend = new InProcessBackend();
      const app = Fastify({ logger: false });
      await app.register(auHttp, { tasks: [double], store, backend, openapi: false, metrics: false });
      const answers = [
        await app.inject('/tasks/some-id'),
        await app.inject('/tasks?limit=5'),
        await post(app, '/double', { x: 2 }),
        await post(app, '/double?async=true', { x: 2 }),
      ];
      for (const response of answers) {
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBe('2');
        const { error } = response.json();
        expect(error).toMatchObject({ code: 'UNAVAILABLE', retryAfter: 2000 });
        expect(error.message).not.toMatch(/10\.1\.2\.3|AU_STORE/);
      }
      store.down = false;
      expect((await app.inject('/tasks/some-id')).statusCode).toBe(404);
      const done = await post(app, '/double', { x: 2 });
      expect(done.statusCode).toBe(200);
      await app.close();
      await backend.close();
      await store.close();
    });

    it('should answer a lock held elsewhere the same way: try again later', () => {
      const { statusCode, body } = toErrorAnswer(new LockUnavailableError({ key: 'report', waited: 0 }));
      expect(statusCode).toBe(503);
      expect(body.error).toMatchObject({ code: 'UNAVAILABLE', retryAfter: 2000 });
    });
  });

  describe('when the plugin makes its own store and backend', () => {
    it('should close them with the server', async () => {
      const app = Fastify();
      await app.register(auHttp, { tasks: [double], openapi: false, metrics: false });
      expect((await post(app, '/double', { x: 4 })).json().result).toBe(8);
      const { store } = app.au;
      await app.close();
      await expect(store.get('anything')).rejects.toThrow(/closed/);
    });

    it('should show stacks only when asked to', async () => {
      const app = Fastify();
      await app.register(auHttp, { tasks: [boom], exposeStacks: true, openapi: false, metrics: false });
      const response = await post(app, '/boom', {});
      expect(response.json().error.stack).toContain('boom: this task always fails');
      await app.close();
    });
  });
});
