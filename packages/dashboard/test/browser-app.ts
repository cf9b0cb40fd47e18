import { type ComputationBackend, defineTask, InProcessBackend, MemoryStore, submitTask } from '@au/core';
import { auHttp } from '@au/http';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { auDashboard } from '../src/index';

/** Sleeps `ms` in ten steps, reporting each, and stops when cancelled. */
export const work = defineTask({
  name: 'work',
  description: 'Works for a while, reporting progress',
  input: z.object({ ms: z.number().int().min(0).max(60_000) }),
  run: async ({ ms }, context) => {
    context.log.info(`working for ${ms} ms`, { ms });
    for (let step = 1; step <= 10; step++) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms / 10);
        context.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(context.signal.reason);
          },
          { once: true },
        );
      });
      context.progress({ done: step, total: 10 });
    }
    context.log.warn('done, tired');
    return { worked: ms };
  },
});

/** Its input holds a password: the server never sends it. */
export const login = defineTask({
  name: 'login',
  input: z.object({ user: z.string(), password: z.string() }),
  hideInput: true,
  run: ({ user }) => `welcome ${user}`,
});

/** A level reused in the input: `/openapi.json` shows it as a component (`$ref`). */
const Level = z.enum(['low', 'high']).meta({ id: 'Level' });

export const triage = defineTask({
  name: 'triage',
  input: z.object({ level: Level, escalateTo: Level.optional() }),
  run: ({ level }) => level,
});

export const fail = defineTask({
  name: 'fail',
  run: () => {
    throw Object.assign(new Error('this one always fails'), { code: 'ALWAYS' });
  },
});

/**
 * A job server as an application builds one: `@au/http` and `@au/dashboard` on Fastify,
 * a memory store and the in-process backend (one that can pause), listening on a free port.
 */
export async function startDashboardApp(apiKey: string): Promise<{
  app: FastifyInstance;
  store: MemoryStore;
  backend: ComputationBackend;
  url: string;
  close(): Promise<void>;
}> {
  const store = new MemoryStore();
  // Pauses by holding launches: the page's pause controls have a backend to drive.
  const backend = new InProcessBackend({ progressInterval: 20 });
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 200 } });
  await app.register(auHttp, {
    tasks: [work, login, triage, fail],
    store,
    backend,
    apiKeys: [apiKey],
    exposeStacks: true,
  });
  await app.register(auDashboard);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    app,
    store,
    backend,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await backend.close();
      await store.close();
    },
  };
}

/** Finished computations to look at: three tagged `nightly`, one `adhoc`, one failed. */
export async function seed(store: MemoryStore, backend: ComputationBackend): Promise<void> {
  const options = { store, backend };
  const handles = [
    ...(await Promise.all(
      [1, 2, 3].map((n) =>
        submitTask(work, { ms: 0 }, { ...options, key: `seed-nightly-${n}`, tags: ['nightly'] }),
      ),
    )),
    await submitTask(work, { ms: 0 }, { ...options, key: 'seed-adhoc', tags: ['adhoc'] }),
    await submitTask(fail, undefined, { ...options, key: 'seed-failed' }),
  ];
  await Promise.all(handles.map((handle) => handle.result().catch(() => undefined)));
}
