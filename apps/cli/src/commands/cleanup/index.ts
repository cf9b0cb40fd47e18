import type { CommandContext } from '../../command-context';
import { CliError } from '../../errors/cli-error';
import { EXIT_CODES } from '../../exit-codes';

export interface CleanupOptions {
  /** Like `AU_STORE`. @default $AU_STORE, else fs:$AU_DATA_DIR (./.au-data), the job server's default */
  store?: string;
}

/**
 * `au cleanup`: removes expired computations. The HTTP API has no cleanup endpoint,
 * so this opens the store itself, from `AU_STORE` (through `configFromEnv`, as the job
 * server does), and calls `store.cleanupExpired()`. The store's package must be
 * installed next to `@au/cli` (`@au/store-fs` is; Redis and Postgres stores are
 * optional peers).
 */
export async function run(options: CleanupOptions, context: CommandContext): Promise<number> {
  const { env } = context;
  const store =
    options.store?.trim() || env.AU_STORE?.trim() || `fs:${env.AU_DATA_DIR?.trim() || './.au-data'}`;
  if (store === 'memory') {
    throw new CliError({
      message:
        'AU_STORE=memory lives inside the job server process: there is nothing to clean from outside (memory stores drop expired records themselves)',
      exitCode: EXIT_CODES.usage,
      code: 'MEMORY_STORE',
    });
  }
  const { configFromEnv, ConfigError } = await import('@au/core');
  let config: Awaited<ReturnType<typeof configFromEnv>>;
  try {
    config = await configFromEnv({
      env: { ...env, AU_STORE: store, AU_BACKEND: 'inline', AU_TASKS: '' },
      importModule: (name) => import(name) as Promise<Record<string, unknown>>,
    });
  } catch (error) {
    if (ConfigError.isInstance(error)) {
      throw new CliError({
        message: error.message,
        exitCode: EXIT_CODES.usage,
        code: 'CONFIG',
        cause: error,
      });
    }
    throw error;
  }
  try {
    const removed = await config.store.cleanupExpired();
    context.io.out(
      context.json
        ? `${JSON.stringify({ removed, store: config.describe.store })}\n`
        : `removed ${removed} expired computation${removed === 1 ? '' : 's'} from ${config.describe.store}\n`,
    );
    return EXIT_CODES.ok;
  } finally {
    await config.close();
  }
}
