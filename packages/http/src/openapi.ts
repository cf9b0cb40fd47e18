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
    openapi: {
      openapi: '3.0.3',
      info: {
        title: info.title ?? 'au job server',
        version: info.version ?? '1.0.0',
        ...(info.description === undefined ? {} : { description: info.description }),
      },
      ...(secured
        ? {
            components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
            security: [{ apiKey: [] }],
          }
        : {}),
    },
  });
  await scope.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  scope.get('/openapi.json', { schema: { hide: true } }, async () => scope.swagger());
}
