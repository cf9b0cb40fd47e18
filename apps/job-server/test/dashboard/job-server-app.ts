import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildServer } from '../../src/build-server';
import { loadConfig, readConfiguration } from '../../src/load-config';

/**
 * The job server's own app (sample tasks, memory store, inline backend, the dashboard
 * it registers itself), listening on a free port.
 */
export async function startJobServerApp(
  env: Record<string, string> = {},
): Promise<{ app: FastifyInstance; url: string; close(): Promise<void> }> {
  const fullEnv = { AU_STORE: 'memory', AU_BACKEND: 'inline', AU_EXPOSE_STACKS: 'true', ...env };
  const { resolved, settings } = await readConfiguration(fullEnv);
  const config = await loadConfig(resolved, settings);
  const app = await buildServer({
    store: config.store,
    backend: config.backend,
    tasks: config.tasks,
    settings,
    logger: silentLogger(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await config.close();
    },
  };
}

function silentLogger(): FastifyBaseLogger {
  const noop = () => undefined;
  const logger = {
    level: 'silent',
    fatal: noop,
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    trace: noop,
    silent: noop,
  } as unknown as FastifyBaseLogger & { child: () => FastifyBaseLogger };
  logger.child = () => logger;
  return logger;
}
