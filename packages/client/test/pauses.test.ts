import {
  type ComputationBackend,
  defineTask,
  InProcessBackend,
  MemoryStore,
  type PausedState,
} from '@au/core';
import { auHttp } from '@au/http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AuClient, AuHttpError } from '../src/index';

const echo = defineTask({ name: 'echo', run: (input: unknown) => input });

/** Keeps its pauses in memory (what the client sees over HTTP is under test, not the pausing). */
function pausingBackend(): ComputationBackend & { state: PausedState } {
  const inner = new InProcessBackend();
  const state: PausedState = { queue: false, tasks: [] };
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    state,
    register: (registration) => inner.register(registration),
    launch: (invocation) => inner.launch(invocation),
    cancel: (key, reason) => inner.cancel(key, reason),
    close: (options) => inner.close(options),
    async pause(task?: string) {
      if (task === undefined) state.queue = true;
      else if (!state.tasks.includes(task)) state.tasks = [...state.tasks, task].sort();
    },
    async resume(task?: string) {
      if (task === undefined) state.queue = false;
      else state.tasks = state.tasks.filter((name) => name !== task);
    },
    async paused() {
      return { queue: state.queue, tasks: [...state.tasks] };
    },
  };
}

async function serve(backend: ComputationBackend): Promise<{ app: FastifyInstance; client: AuClient }> {
  const app = Fastify();
  await app.register(auHttp, { tasks: [echo], store: new MemoryStore(), backend });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return { app, client: new AuClient({ url }) };
}

describe('@au/client pauses', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('when the server can pause', () => {
    it('should pause and resume tasks and the queue, answering the state after each call', async () => {
      const backend = pausingBackend();
      const served = await serve(backend);
      app = served.app;
      const { client } = served;
      expect(await client.pauses()).toEqual({ queue: false, tasks: [] });
      expect(await client.pauseTask('ns:echo.v2')).toEqual({ queue: false, tasks: ['ns:echo.v2'] });
      expect(await client.pauseQueue()).toEqual({ queue: true, tasks: ['ns:echo.v2'] });
      expect(await client.resumeTask('ns:echo.v2')).toEqual({ queue: true, tasks: [] });
      expect(await client.resumeQueue()).toEqual({ queue: false, tasks: [] });
      expect(backend.state).toEqual({ queue: false, tasks: [] });
    });
  });

  describe('when the server cannot pause', () => {
    it('should reject with AuHttpError 501 PAUSE_UNSUPPORTED', async () => {
      const backend = new InProcessBackend();
      for (const method of ['pause', 'resume', 'paused'] as const) {
        Object.defineProperty(backend, method, { value: undefined });
      }
      const served = await serve(backend);
      app = served.app;
      const error = await served.client.pauseTask('echo').catch((caught: unknown) => caught);
      expect(AuHttpError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ status: 501, code: 'PAUSE_UNSUPPORTED' });
    });
  });
});
