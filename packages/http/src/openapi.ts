import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { OpenApiInfo } from './au-http-options';

/**
 * `/openapi.json` (OpenAPI 3, from the route schemas, whose task bodies come from the
 * tasks' zod schemas) and the Swagger UI at `/docs`, its assets served from the
 * installed package (no CDN).
 */
export async function registerOpenApi(
  scope: FastifyInstance,
  info: OpenApiInfo,
  { secured }: { secured: boolean },
): Promise<void> {
  await scope.register(swagger, {
    // Shared schemas appear under `components.schemas` by their `$id`, not as `def-0`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: info.title ?? 'au job server',
        version: info.version ?? '1.0.0',
        ...(info.description === undefined ? {} : { description: info.description }),
      },
      tags: [
        { name: 'tasks', description: 'Run a task: one route per task this server serves' },
        { name: 'computations', description: 'Follow, wait for and cancel computations' },
        { name: 'schedules', description: 'Run a task on a cron or interval schedule' },
        { name: 'pauses', description: 'Pause and resume a task, or the whole queue, on every worker' },
        { name: 'health', description: 'Liveness, readiness and metrics' },
      ],
      servers: [{ url: '/', description: 'This server' }],
      // Without API keys every route is open: said explicitly, as `security: []`.
      ...(secured
        ? {
            components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
            security: [{ apiKey: [] }],
          }
        : { security: [] }),
    },
  });
  await scope.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  scope.get('/openapi.json', { schema: { hide: true } }, async () => scope.swagger());
}
