import type { FastifyInstance } from 'fastify';
import { healthRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';

/** A key no computation uses: `/readyz` reads it to prove the store answers. */
const PROBE_KEY = 'au-http-readiness-probe';
const PROBE_TIMEOUT = 5_000;

/** `/healthz` (the process is up), `/readyz` (store and backend answer) and `/metrics`. */
export function registerHealthRoutes(app: FastifyInstance, state: PluginState): void {
  const schemas = healthRouteSchemas();
  app.get('/healthz', { schema: schemas.healthz, config: { auPublic: true } }, async () => ({
    status: 'ok',
  }));

  app.get('/readyz', { schema: schemas.readyz, config: { auPublic: true } }, async (request, reply) => {
    const [store, backend] = await Promise.all([
      check(() => state.store.get(PROBE_KEY)),
      check(async () => {
        await state.backend.ping?.();
      }),
    ]);
    const ready = store === 'ok' && backend === 'ok';
    if (!ready) request.log.warn({ store, backend }, 'not ready');
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unready', checks: { store, backend } });
  });

  const registry = state.metricsRegistry;
  if (registry !== undefined) {
    app.get('/metrics', { schema: schemas.metrics }, async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  }
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT} ms`)), PROBE_TIMEOUT);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `error: ${(error as Error).message}`.slice(0, 300);
  } finally {
    clearTimeout(timer);
  }
}
