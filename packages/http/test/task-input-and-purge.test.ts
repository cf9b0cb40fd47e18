import { defineTask } from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp, slow } from './fixtures';

const login = defineTask({
  name: 'login',
  description: 'Takes a password: its input never leaves the server',
  input: z.object({ user: z.string(), password: z.string() }),
  hideInput: true,
  run: ({ user }) => `hello ${user}`,
});

const greet = defineTask({
  name: 'greet',
  input: z.object({ name: z.string(), loud: z.boolean().default(false) }),
  run: ({ name, loud }) => (loud ? `HELLO ${name.toUpperCase()}` : `hello ${name}`),
});

let built: Awaited<ReturnType<typeof buildApp>> | undefined;

afterEach(async () => {
  await built?.app.close();
  await built?.backend.close();
  built = undefined;
});

async function launch(task: string, input: unknown): Promise<string> {
  const response = await built!.app.inject({
    method: 'POST',
    url: `/${task}?wait=5`,
    payload: input as object,
  });
  expect(response.statusCode).toBeLessThan(300);
  return response.json().taskId;
}

describe('@au/http task views', () => {
  describe('when a computation is read by id', () => {
    it('should carry its parsed input, but not in the list nor in events', async () => {
      built = await buildApp({ tasks: [greet] });
      const id = await launch('greet', { name: 'ada' });
      const view = (await built.app.inject(`/tasks/${id}`)).json();
      expect(view.input).toEqual({ name: 'ada', loud: false });
      expect(view).not.toHaveProperty('inputHidden');
      const list = (await built.app.inject('/tasks')).json();
      expect(list.items[0].taskId).toBe(id);
      expect(list.items[0]).not.toHaveProperty('input');
      const events = (await built.app.inject(`/tasks/${id}/events`)).body;
      expect(events).not.toContain('ada');
    });
  });

  describe('when the task is defined with hideInput', () => {
    it('should never send the input, only say it is hidden', async () => {
      built = await buildApp({ tasks: [login, greet] });
      const id = await launch('login', { user: 'ada', password: 'hunter2' });
      const response = await built.app.inject(`/tasks/${id}`);
      expect(response.json()).toMatchObject({ taskId: id, status: 'completed', inputHidden: true });
      expect(response.json()).not.toHaveProperty('input');
      expect(response.body).not.toContain('hunter2');
      // The record keeps it: the task ran with it.
      expect((await built.store.get(id))?.args).toEqual({ user: 'ada', password: 'hunter2' });
    });
  });

  describe('when a schedule runs a task defined with hideInput', () => {
    it('should not send its input either', async () => {
      built = await buildApp({ tasks: [login, greet] });
      const created = await built.app.inject({
        method: 'POST',
        url: '/schedules',
        payload: {
          id: 'nightly-login',
          task: 'login',
          cron: '0 3 * * *',
          input: { user: 'ada', password: 'hunter2' },
        },
      });
      expect(created.statusCode).toBe(201);
      expect(created.body).not.toContain('hunter2');
      for (const url of ['/schedules', '/schedules/nightly-login']) {
        const response = await built.app.inject(url);
        expect(response.body).not.toContain('hunter2');
        expect(response.body).toContain('"inputHidden":true');
      }
      const other = await built.app.inject({
        method: 'POST',
        url: '/schedules',
        payload: { id: 'nightly-greet', task: 'greet', cron: '0 3 * * *', input: { name: 'ada' } },
      });
      expect(other.json()).toMatchObject({ input: { name: 'ada' } });
      expect(other.json()).not.toHaveProperty('inputHidden');
    });
  });

  describe('when the plugin is told not to expose inputs', () => {
    it('should hide every input', async () => {
      built = await buildApp({ tasks: [greet], exposeInputs: false });
      const id = await launch('greet', { name: 'ada' });
      const view = (await built.app.inject(`/tasks/${id}`)).json();
      expect(view.inputHidden).toBe(true);
      expect(view).not.toHaveProperty('input');
    });
  });

  describe('when the record belongs to a task this server does not serve', () => {
    it('should hide its input, since it cannot know whether the task hides it', async () => {
      built = await buildApp({ tasks: [greet] });
      const now = Date.now();
      await built.store.create({
        key: 'elsewhere-1',
        task: 'secret-elsewhere',
        status: 'pending',
        args: { token: 'shh' },
        attempt: 0,
        maxAttempts: 1,
        createdAt: now,
      });
      const response = await built.app.inject('/tasks/elsewhere-1');
      expect(response.json()).toMatchObject({ taskId: 'elsewhere-1', inputHidden: true });
      expect(response.body).not.toContain('shh');
    });
  });
});

describe('@au/http DELETE /tasks/{id}?purge=true', () => {
  describe('when the computation has ended', () => {
    it('should delete its record, then answer 404 for it', async () => {
      built = await buildApp({ tasks: [greet] });
      const id = await launch('greet', { name: 'ada' });
      const response = await built.app.inject({ method: 'DELETE', url: `/tasks/${id}?purge=true` });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ taskId: id, cancelled: false, status: 'completed', deleted: true });
      expect(await built.store.get(id)).toBeUndefined();
      expect((await built.app.inject(`/tasks/${id}`)).statusCode).toBe(404);
      expect((await built.app.inject({ method: 'DELETE', url: `/tasks/${id}?purge=true` })).statusCode).toBe(
        404,
      );
    });
  });

  describe('when the computation is still running', () => {
    it('should cancel it first, then delete it', async () => {
      built = await buildApp({ tasks: [slow] });
      const { taskId } = (
        await built.app.inject({ method: 'POST', url: '/slow?async=true', payload: { ms: 30_000 } })
      ).json();
      const response = await built.app.inject({ method: 'DELETE', url: `/tasks/${taskId}?purge=1` });
      expect(response.json()).toEqual({ taskId, cancelled: true, status: 'cancelled', deleted: true });
      expect(await built.store.get(taskId)).toBeUndefined();
    });
  });

  describe('when purge is not a boolean', () => {
    it('should answer 400 and delete nothing', async () => {
      built = await buildApp({ tasks: [greet] });
      const id = await launch('greet', { name: 'ada' });
      const response = await built.app.inject({ method: 'DELETE', url: `/tasks/${id}?purge=yes` });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('INVALID_QUERY');
      expect(await built.store.get(id)).toBeDefined();
    });
  });

  describe('without purge', () => {
    it('should only cancel, keeping the record', async () => {
      built = await buildApp({ tasks: [greet] });
      const id = await launch('greet', { name: 'ada' });
      const response = await built.app.inject({ method: 'DELETE', url: `/tasks/${id}` });
      expect(response.json()).toEqual({ taskId: id, cancelled: false, status: 'completed' });
      expect(await built.store.get(id)).toBeDefined();
    });
  });
});
