import type { FastifyInstance } from 'fastify';
import { healthRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { parseInteger } from '../query';

/** `GET /stats?window=<seconds>`: `app.au.stats()` as JSON. */
export function registerStatsRoutes(app: FastifyInstance, state: PluginState): void {
  const schema = healthRouteSchemas().stats;
  app.get<{ Querystring: { window?: string } }>('/stats', { schema }, async (request) => {
    const window = parseInteger(request.query.window, 'window', 1, 900);
    return state.stats(window === undefined ? {} : { window: window * 1000 });
  });
}
