import { defineTask, InProcessBackend, type InProcessBackendOptions, MemoryStore } from '@au/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type AuHttpOptions, auHttp } from '../src/index';

export const double = defineTask({
  name: 'double',
  description: 'Doubles a number',
  input: z.object({ x: z.number() }),
  run: ({ x }) => x * 2,
});

export const slow = defineTask({
  name: 'slow',
  input: z.object({ ms: z.number().int().min(0).max(60_000) }),
  run: async ({ ms }, context) => {
    const steps = 10;
    for (let step = 1; step <= steps; step++) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(context.signal.reason);
        };
        const timer = setTimeout(() => {
          context.signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms / steps);
        context.signal.addEventListener('abort', onAbort, { once: true });
      });
      context.progress({ done: step, total: steps });
    }
    return 'slept';
  },
});

export const boom = defineTask({
  name: 'boom',
  run: () => {
    const error = new Error('boom: this task always fails') as Error & { code: string };
    error.code = 'E_BOOM';
    throw error;
  },
});

export const colon = defineTask({ name: 'ns:echo', run: (input: unknown) => input });

/** A Fastify app serving the test tasks over a MemoryStore and an InProcessBackend. */
export async function buildApp(
  options: Partial<AuHttpOptions> = {},
  backendOptions: InProcessBackendOptions = {},
): Promise<{
  app: FastifyInstance;
  store: MemoryStore;
  backend: InProcessBackend;
}> {
  const store = new MemoryStore();
  const backend = new InProcessBackend({ progressInterval: 10, ...backendOptions });
  const app = Fastify({ logger: false });
  await app.register(auHttp, {
    tasks: [double, slow, boom, colon],
    store,
    backend,
    defaultWait: 5,
    maxWait: 10,
    heartbeatInterval: 200,
    ...options,
  });
  await app.ready();
  return { app, store, backend };
}

/** Waits `after` ms (time to follow it), reports 1..to as fast as it can, then returns `to`. */
export const countUp = defineTask({
  name: 'count-up',
  input: z.object({ to: z.number().int().min(1).max(10_000), after: z.number().int().min(0).max(10_000) }),
  run: async ({ to, after }, context) => {
    await new Promise((resolve) => setTimeout(resolve, after));
    for (let step = 1; step <= to; step++) {
      context.progress(step);
      await Promise.resolve();
    }
    return to;
  },
});

/** One server-sent event of a whole `text/event-stream` body, with its data parsed as JSON. */
export interface SentEvent<Data = unknown> {
  id: string;
  event: string;
  data: Data;
}

/** The events of a finished `text/event-stream` body (what `app.inject` returns). */
export function parseEventStream<Data = unknown>(body: string): SentEvent<Data>[] {
  return body
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      );
      return {
        id: fields.id,
        event: fields.event,
        data: JSON.parse(fields.data ?? 'null'),
      } as SentEvent<Data>;
    });
}
