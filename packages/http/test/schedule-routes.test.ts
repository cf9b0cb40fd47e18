import { InProcessBackend, MemoryStore, scheduleTag } from '@au/core';
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { auHttp } from '../src/index';
import { buildApp } from './fixtures';

describe('@au/http schedules', () => {
  let built: { app: FastifyInstance; store: MemoryStore; backend: InProcessBackend } | undefined;
  const open = async () => {
    built = await buildApp();
    return built;
  };
  afterEach(async () => {
    await built?.app.close();
    await built?.backend.close();
    await built?.store.close();
    built = undefined;
  });
  const request = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    built!.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

  describe('when a schedule is created, read, paused, resumed and deleted', () => {
    it('should answer each step and fire the task', async () => {
      const { store } = await open();
      const created = await request('POST', '/schedules', {
        id: 'twice',
        task: 'double',
        every: 150,
        input: { x: 4 },
        tags: ['http'],
      });
      expect(created.statusCode).toBe(201);
      expect(created.headers.location).toBe('/schedules/twice');
      expect(created.json()).toMatchObject({
        id: 'twice',
        task: 'double',
        every: 150,
        input: { x: 4 },
        overlap: 'skip',
        paused: false,
        skipped: 0,
      });
      expect(Date.parse(created.json().nextRunAt)).toBeGreaterThan(0);
      let completed: unknown;
      for (let tries = 0; tries < 200 && completed === undefined; tries++) {
        const { records } = await store.list({ tag: scheduleTag('twice'), status: 'completed' });
        completed = records[0]?.value;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(completed).toBe(8);
      const again = await request('POST', '/schedules', {
        id: 'twice',
        task: 'double',
        every: 150,
        input: { x: 5 },
      });
      expect(again.statusCode).toBe(200);
      expect(
        (await request('GET', '/schedules')).json().items.map((item: { id: string }) => item.id),
      ).toEqual(['twice']);
      expect((await request('POST', '/schedules/twice/pause')).json()).toMatchObject({ paused: true });
      expect((await request('GET', '/schedules/twice')).json()).toMatchObject({
        paused: true,
        input: { x: 5 },
      });
      expect((await request('POST', '/schedules/twice/resume')).json()).toMatchObject({ paused: false });
      const deleted = await request('DELETE', '/schedules/twice');
      expect(deleted.json()).toEqual({ id: 'twice', deleted: true });
      expect((await request('GET', '/schedules')).json()).toEqual({ items: [] });
    });
  });

  describe('when the request is bad', () => {
    it.each([
      ['a bad cron expression', { task: 'double', cron: 'often', input: { x: 1 } }, 400, 'INVALID_SCHEDULE'],
      [
        'an unknown time zone',
        { task: 'double', cron: '0 3 * * *', timezone: 'Mars/Olympus', input: { x: 1 } },
        400,
        'INVALID_SCHEDULE',
      ],
      ['neither cron nor every', { task: 'double', input: { x: 1 } }, 400, 'INVALID_SCHEDULE'],
      [
        'an unknown field',
        { task: 'double', every: 1000, input: { x: 1 }, color: 'red' },
        400,
        'INVALID_SCHEDULE',
      ],
      ['a too short every', { task: 'double', every: 5, input: { x: 1 } }, 400, 'INVALID_SCHEDULE'],
      ['a bad id', { id: 'a/b', task: 'double', every: 1000, input: { x: 1 } }, 400, 'INVALID_SCHEDULE'],
      [
        'an input the task refuses',
        { task: 'double', every: 1000, input: { x: 'one' } },
        400,
        'INVALID_INPUT',
      ],
      ['an unknown task', { task: 'nope', every: 1000 }, 404, 'TASK_NOT_FOUND'],
      ['a body that is not an object', [1, 2], 400, 'INVALID_SCHEDULE'],
    ])('should refuse %s with a clear 4xx and store nothing', async (_, body, status, code) => {
      await open();
      const response = await request('POST', '/schedules', body);
      expect(response.statusCode).toBe(status);
      expect(response.json().error).toMatchObject({ code });
      expect(response.json().error.message).toMatch(/\w/);
      expect((await request('GET', '/schedules')).json()).toEqual({ items: [] });
    });

    it('should answer 404 for an unknown id and 400 for a malformed one', async () => {
      await open();
      for (const [method, url] of [
        ['GET', '/schedules/nope'],
        ['POST', '/schedules/nope/pause'],
        ['POST', '/schedules/nope/resume'],
        ['DELETE', '/schedules/nope'],
      ] as const) {
        const response = await request(method, url);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
        expect(response.json().error.code).toBe('SCHEDULE_NOT_FOUND');
      }
      expect((await request('GET', '/schedules/a..b%2F')).statusCode).toBe(400);
    });

    it('should refuse a query parameter the route does not take with 400 naming it', async () => {
      await open();
      for (const [method, url] of [
        ['GET', '/schedules?limit=5'],
        ['POST', '/schedules?async=true'],
        ['GET', '/schedules/nope?wait=1'],
        ['DELETE', '/schedules/nope?force=1'],
      ] as const) {
        const response = await request(
          method,
          url,
          method === 'POST' ? { task: 'double', every: 1000, input: { x: 1 } } : undefined,
        );
        expect(response.statusCode, `${method} ${url}`).toBe(400);
        expect(response.json().error).toMatchObject({ code: 'UNKNOWN_QUERY_PARAMETER' });
      }
      expect((await request('GET', '/schedules')).json()).toEqual({ items: [] });
    });
  });

  describe('when the server keeps no schedules', () => {
    it('should answer 501 on the schedule routes', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const app = Fastify({ logger: false });
      await app.register(auHttp, { tasks: [], store, backend, scheduler: false });
      await app.ready();
      const response = await app.inject({ method: 'GET', url: '/schedules' });
      expect(response.statusCode).toBe(501);
      expect(response.json().error.code).toBe('SCHEDULES_UNAVAILABLE');
      await app.close();
      await backend.close();
      await store.close();
    });
  });

  describe('when the OpenAPI document is read', () => {
    it('should describe the schedule routes with the body schema', async () => {
      await open();
      const document = (await request('GET', '/openapi.json')).json();
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          '/schedules',
          '/schedules/{id}',
          '/schedules/{id}/pause',
          '/schedules/{id}/resume',
        ]),
      );
      const body = document.paths['/schedules'].post.requestBody.content['application/json'].schema;
      expect(body.properties).toHaveProperty('cron');
      expect(body.required).toEqual(['task']);
      const operations = ['/schedules', '/schedules/{id}', '/schedules/{id}/pause', '/schedules/{id}/resume']
        .flatMap((path) => Object.values(document.paths[path]))
        .map((operation) => (operation as { operationId: string }).operationId);
      expect(operations.sort()).toEqual([
        'createSchedule',
        'deleteSchedule',
        'getSchedule',
        'listSchedules',
        'pauseSchedule',
        'resumeSchedule',
      ]);
      expect(document.components.schemas.Schedule.required).toEqual(
        expect.arrayContaining(['id', 'task', 'overlap', 'paused']),
      );
      expect(
        document.paths['/schedules/{id}'].get.responses['200'].content['application/json'].schema,
      ).toEqual({
        $ref: '#/components/schemas/Schedule',
      });
    });
  });
});
