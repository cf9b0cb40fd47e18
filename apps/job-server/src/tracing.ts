import { type Middleware, type OpenTelemetryApi, TracingMiddleware } from '@au/core';
import { UsageError } from './errors/usage-error';
import type { ServerSettings } from './server-settings';

/**
 * The middleware `AU_TRACING=true` adds: `TracingMiddleware` over `@opentelemetry/api`
 * (an optional peer dependency, loaded only then). The spans go wherever the SDK that
 * the process set up sends them (e.g. `node --import ./otel.mjs`); without an SDK the
 * API makes no spans. See docs/observability.md.
 */
export async function tracingMiddleware(settings: ServerSettings): Promise<Middleware[]> {
  if (!settings.tracing) return [];
  let api: OpenTelemetryApi;
  try {
    api = (await import('@opentelemetry/api')) as unknown as OpenTelemetryApi;
  } catch (error) {
    throw new UsageError(
      `AU_TRACING=true needs the package @opentelemetry/api, which cannot be loaded (${(error as Error).message}): install it and an OpenTelemetry SDK (see docs/observability.md), or set AU_TRACING=false`,
    );
  }
  return [TracingMiddleware({ api })];
}
