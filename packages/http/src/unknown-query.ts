import { closestName } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors/http-error';

/**
 * Refuses, with a 400 naming them, query parameters a route does not declare in its
 * `schema.querystring`: a misspelt `?priorty=` must not be silently ignored. Routes
 * without a schema, or hidden from OpenAPI (`schema.hide`, e.g. the docs' assets), are
 * left alone.
 */
export function refuseUnknownQuery(scope: FastifyInstance): void {
  scope.addHook('preValidation', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query === undefined || query === null) return;
    const names = Object.keys(query);
    if (names.length === 0) return;
    const schema = request.routeOptions.schema as
      | { hide?: boolean; querystring?: { properties?: Record<string, unknown> } }
      | undefined;
    if (schema === undefined || schema.hide === true) return;
    const known = Object.keys(schema.querystring?.properties ?? {});
    const unknown = names.filter((name) => !known.includes(name));
    if (unknown.length === 0) return;
    const described = unknown
      .slice(0, 5)
      .map((name) => {
        const shown = `"${name.slice(0, 40)}"`;
        const closest = closestName(name, known);
        return closest === undefined ? shown : `${shown} (did you mean "${closest}"?)`;
      })
      .join(', ');
    const takes = known.length > 0 ? `it takes ${known.join(', ')}` : 'it takes none';
    throw new HttpError(
      400,
      'UNKNOWN_QUERY_PARAMETER',
      `unknown query parameter${unknown.length > 1 ? 's' : ''} ${described} for ${request.method} ${request.routeOptions.url}: ${takes}`,
      { details: { parameters: unknown } },
    );
  });
}
