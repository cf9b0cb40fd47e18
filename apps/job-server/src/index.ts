export { type BuildServerOptions, buildServer } from './build-server';
export { checkConnections } from './check-connections';
export { type Command, parseArguments, USAGE } from './cli';
export { ServerStoppedError } from './errors/server-stopped-error';
export { StartupCheckError } from './errors/startup-check-error';
export { UsageError } from './errors/usage-error';
export { failInterrupted } from './fail-interrupted';
export {
  type ConfigFileOptions,
  loadConfig,
  readConfiguration,
  SAMPLE_TASKS_URL,
  type ServerConfiguration,
} from './load-config';
export { readServerSettings, type ServerSettings } from './server-settings';
export { type RunningServer, type StartServerOptions, startServer } from './start-server';
