import { startServer } from '../start-server';

/**
 * `job-server` / `job-server serve`: runs the server until SIGTERM or SIGINT, then
 * shuts down gracefully. A second signal exits at once.
 */
export async function run({
  env,
  configFile,
}: {
  env: Readonly<Record<string, string | undefined>>;
  configFile?: string;
}): Promise<void> {
  const server = await startServer(env, undefined, configFile === undefined ? {} : { configFile });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, 'shutting down: no new requests, waiting for running work');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
