import { defineTask } from '@au/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { boom, buildApp, double, parseEventStream, type SentEvent } from './fixtures';

type Built = Awaited<ReturnType<typeof buildApp>>;
type Change = SentEvent<{ taskId: string; task: string; status: string }>;

const chatty = defineTask({
  name: 'chatty',
  input: z.object({ fail: z.boolean().default(false) }),
  run: ({ fail }, context) => {
    context.log.info({ rows: 2 }, 'loaded');
    context.log.warn('almost done');
    if (fail) throw new Error('chatty failed');
    return 'ok';
  },
});

/** Reads a live `text/event-stream` until `done` holds for the events so far, then closes it. */
async function readEvents(
  url: string,
  done: (events: Change[]) => boolean,
  headers: Record<string, string> = {},
  started?: () => Promise<unknown>,
): Promise<Change[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 8000);
  const response = await fetch(url, { headers, signal: controller.signal });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let kicked = false;
  try {
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += value;
      // The stream is open once its first bytes came: now make the changes.
      if (!kicked) {
        kicked = true;
        await started?.();
      }
      const events = parseEventStream(text.slice(0, text.lastIndexOf('\n\n') + 2)) as Change[];
      if (done(events)) return events;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`the stream ended early: ${text}`);
}

describe('@au/http GET /events and GET /tasks/{id}/logs', () => {
  let built: Built;
  let base: string;
  beforeAll(async () => {
    built = await buildApp({ tasks: [double, boom, chatty] });
    base = await built.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    // fetch keeps its connections alive: close them rather than wait for them.
    built.app.server.closeAllConnections();
    await built.app.close();
    await built.backend.close();
    await built.store.close();
  });

  const launch = async (task: string, payload: Record<string, unknown>) =>
    (await built.app.inject({ method: 'POST', url: `/${task}?async=true`, payload })).json().taskId as string;

  describe('when following every task', () => {
    it('should send a change event per new task and version, filtered by the query', async () => {
      let doubled = '';
      const events = await readEvents(
        `${base}/events?task=double&status=pending,completed`,
        (seen) => seen.some((event) => event.data.taskId === doubled && event.data.status === 'completed'),
        {},
        async () => {
          await launch('boom', {});
          doubled = await launch('double', { x: 2 });
        },
      );
      expect(events.every((event) => event.event === 'change')).toBe(true);
      expect(events.every((event) => event.data.task === 'double')).toBe(true);
      expect(events.every((event) => ['pending', 'completed'].includes(event.data.status))).toBe(true);
      const ids = events.map((event) => Number(event.id.split('-')[1]));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    });

    it('should replay what a client missed after its Last-Event-ID, and reset an unknown id', async () => {
      let first = '';
      const before = await readEvents(
        `${base}/events?task=double`,
        (seen) => seen.some((event) => event.data.taskId === first && event.data.status === 'completed'),
        {},
        async () => {
          first = await launch('double', { x: 3 });
        },
      );
      const lastId = before.at(-1)!.id;
      // Changes while the client is away.
      const missed = await launch('double', { x: 4 });
      await built.app.inject(`/tasks/${missed}/result?wait=5`);
      const resumed = await readEvents(
        `${base}/events?task=double`,
        (seen) => seen.some((event) => event.data.taskId === missed && event.data.status === 'completed'),
        { 'last-event-id': lastId },
      );
      expect(resumed.some((event) => event.data.taskId === first)).toBe(false);
      expect(resumed[0]?.data.taskId).toBe(missed);

      const reset = await readEvents(`${base}/events`, (seen) => seen.length > 0, {
        'last-event-id': 'feedface-1',
      });
      expect(reset[0]?.event).toBe('reset');
    });

    it('should answer 400 to an unknown status', async () => {
      const response = await built.app.inject('/events?status=done');
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('INVALID_QUERY');
    });

    it('should refuse an undeclared query parameter on both routes, naming the close one', async () => {
      const id = await launch('double', { x: 1 });
      for (const url of ['/events?tags=a', `/tasks/${id}/logs?tail=5`]) {
        const response = await built.app.inject(url);
        expect(response.statusCode).toBe(400);
        expect(response.json().error.code).toBe('UNKNOWN_QUERY_PARAMETER');
      }
      expect((await built.app.inject('/events?tags=a')).json().error.message).toContain('did you mean "tag"');
    });

    it('should answer HEAD at once with the stream headers, and 400 to a bad filter', async () => {
      const head = await built.app.inject({ method: 'HEAD', url: '/events?task=double' });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(head.body).toBe('');
      expect((await built.app.inject({ method: 'HEAD', url: '/events?status=done' })).statusCode).toBe(400);
    });
  });

  describe('when reading the logs of a task', () => {
    it('should return the lines with levels and times, after a success and after a failure', async () => {
      for (const fail of [false, true]) {
        const id = await launch('chatty', { fail });
        await built.app.inject(`/tasks/${id}/result?wait=5`);
        const response = await built.app.inject(`/tasks/${id}/logs`);
        expect(response.statusCode).toBe(200);
        const body = response.json();
        expect(body).toMatchObject({ taskId: id, status: fail ? 'failed' : 'completed', dropped: 0 });
        expect(body.lines).toMatchObject([
          { level: 'info', message: 'loaded', data: { rows: 2 }, attempt: 1 },
          { level: 'warn', message: 'almost done' },
        ]);
        expect(Number.isNaN(Date.parse(body.lines[0].time))).toBe(false);
      }
    });

    it('should return no lines for a task that did not log, and 404 for an unknown id', async () => {
      const id = await launch('double', { x: 1 });
      await built.app.inject(`/tasks/${id}/result?wait=5`);
      expect((await built.app.inject(`/tasks/${id}/logs`)).json()).toMatchObject({ lines: [], dropped: 0 });
      const missing = await built.app.inject('/tasks/no-such-task/logs');
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('NOT_FOUND');
    });

    it('should describe both routes in OpenAPI, /events as text/event-stream', async () => {
      const spec = (await built.app.inject('/openapi.json')).json();
      const logs = spec.paths['/tasks/{id}/logs'].get;
      expect(logs.operationId).toBe('getTaskLogs');
      expect(logs.responses['200'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/TaskLogs',
      );
      const events = spec.paths['/events'].get;
      expect(events.operationId).toBe('streamEvents');
      expect(events.responses['200'].content['text/event-stream']).toBeDefined();
      const query = events.parameters.filter((parameter: { in: string }) => parameter.in === 'query');
      expect(query.map((parameter: { name: string }) => parameter.name).sort()).toEqual([
        'status',
        'tag',
        'task',
      ]);
      expect(
        events.parameters.some((parameter: { name: string }) => parameter.name === 'Last-Event-ID'),
      ).toBe(true);
    });
  });
});
