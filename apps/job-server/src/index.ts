export { type BuildServerOptions, buildServer } from './build-server';
export { type Command, parseArguments, USAGE } from './cli';
export { ServerStoppedError } from './errors/server-stopped-error';
export { UsageError } from './errors/usage-error';
export { failInterrupted } from './fail-interrupted';
export { loadConfig, SAMPLE_TASKS_URL } from './load-config';
export { readServerSettings, type ServerSettings } from './server-settings';
export { type RunningServer, startServer } from './start-server';
