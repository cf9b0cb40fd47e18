import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './fixtures';

const uniqueKey = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

describe('launch options over HTTP', () => {
  let built: Awaited<ReturnType<typeof buildApp>>;
  let app: FastifyInstance;
  beforeAll(async () => {
    built = await buildApp();
    app = built.app;
  });
  afterAll(() => app.close());

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload: body as object, headers });

  describe('when priority, delay, tags, ttl and key are given', () => {
    it('should launch with them', async () => {
      const key = uniqueKey('options');
      const response = await post(
        `/double?async=true&key=${key}&priority=7&delay=1000&tags=a,b&tags=c&ttl=30`,
        {
          x: 2,
        },
      );
      expect(response.statusCode).toBe(202);
      expect(response.json().taskId).toBe(key);
      const record = await built.store.get(key);
      expect(record).toMatchObject({ key, priority: 7, tags: ['a', 'b', 'c'], ttl: 30 });
      expect(record?.runAt).toBeGreaterThan(record!.createdAt);
      const result = await app.inject(`/tasks/${key}/result?wait=5`);
      expect(result.json()).toMatchObject({ status: 'completed', result: 4 });
      expect((await built.store.get(key))?.expiresAt).toBe(
        (await built.store.get(key))!.finishedAt! + 30_000,
      );
    });
  });

  describe('when a key is used again', () => {
    it('should join with the same input and answer 409 KEY_CONFLICT with another, changing nothing', async () => {
      const key = uniqueKey('conflict');
      const first = await post('/double', { x: 1 }, { 'idempotency-key': key });
      expect(first.json()).toMatchObject({ taskId: key, result: 2 });
      const same = await post(`/double?key=${key}`, { x: 1 });
      expect(same.json()).toMatchObject({ taskId: key, result: 2 });
      const before = await built.store.get(key);
      const other = await post('/double', { x: 5 }, { 'idempotency-key': key });
      expect(other.statusCode).toBe(409);
      expect(other.json().error).toMatchObject({ code: 'KEY_CONFLICT', key });
      expect(other.json().error.message).toContain(key);
      const otherTask = await post('/ns:echo', { x: 1 }, { 'idempotency-key': key });
      expect(otherTask.statusCode).toBe(409);
      expect(otherTask.json().error).toMatchObject({ code: 'KEY_CONFLICT', existingTask: 'double' });
      expect(await built.store.get(key)).toEqual(before);
    });

    it('should run it again past ?idempotencyWindow=', async () => {
      const key = uniqueKey('window');
      expect((await post(`/double?key=${key}&idempotencyWindow=0`, { x: 1 })).json().result).toBe(2);
      const again = await post(`/double?key=${key}&idempotencyWindow=0`, { x: 3 });
      expect(again.json()).toMatchObject({ taskId: key, result: 6 });
    });
  });

  describe('when an option is bad', () => {
    it.each([
      ['priority=high', 'priority'],
      ['priority=1.5', 'priority'],
      ['delay=-1', 'delay'],
      ['ttl=0', 'ttl'],
      ['ttl=abc', 'ttl'],
      ['key=../etc', 'key'],
      ['key=a&key=b', 'key'],
      ['idempotencyWindow=5', 'idempotencyWindow'],
      [`tags=${'x'.repeat(201)}`, 'tags'],
    ])('should answer 400 naming the parameter for ?%s, launching nothing', async (query, name) => {
      const before = (await built.store.list()).records.length;
      const response = await post(`/double?${query}`, { x: 1 });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.message).toContain(`?${name}=`);
      expect((await built.store.list()).records.length).toBe(before);
    });

    it('should answer 400 when ?key= and the Idempotency-Key header differ', async () => {
      const response = await post('/double?key=one', { x: 1 }, { 'idempotency-key': 'two' });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.message).toContain('Idempotency-Key');
    });
  });

  describe('when a query parameter is unknown', () => {
    it('should answer 400 naming it and the closest known name, launching nothing', async () => {
      const before = (await built.store.list()).records.length;
      const response = await post('/double?priorty=3', { x: 1 });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'UNKNOWN_QUERY_PARAMETER',
        parameters: ['priorty'],
      });
      expect(response.json().error.message).toContain('did you mean "priority"');
      expect((await built.store.list()).records.length).toBe(before);
    });

    it.each([
      ['GET', '/tasks?stauts=running', 'status'],
      ['GET', '/tasks/some-id?wait=1', undefined],
      ['GET', '/healthz?verbose=1', undefined],
    ])('should refuse it on %s %s too', async (method, url, closest) => {
      const response = await app.inject({ method: method as 'GET', url });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('UNKNOWN_QUERY_PARAMETER');
      if (closest !== undefined) expect(response.json().error.message).toContain(`did you mean "${closest}"`);
    });
  });

  describe('when HEAD asks for an event stream', () => {
    it('should answer at once with the stream headers, while the computation still runs', async () => {
      const launched = await post('/slow?async=true', { ms: 5000 });
      const key = launched.json().taskId as string;
      const head = await app.inject({ method: 'HEAD', url: `/tasks/${key}/events` });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(head.body).toBe('');
      expect((await app.inject({ method: 'HEAD', url: '/tasks/missing-key/events' })).statusCode).toBe(404);
      await app.inject({ method: 'DELETE', url: `/tasks/${key}` });
    });
  });
});
