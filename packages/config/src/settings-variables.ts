import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsedSettings } from './config-schema';

/** Each file key and the environment variable it stands for: the variable wins. */
export const SETTING_VARIABLES = [
  { key: 'store', variable: 'AU_STORE' },
  { key: 'backend', variable: 'AU_BACKEND' },
  { key: 'tasks', variable: 'AU_TASKS' },
  { key: 'ttl', variable: 'AU_TTL_SECONDS' },
  { key: 'concurrency', variable: 'AU_CONCURRENCY' },
  { key: 'maxQueued', variable: 'AU_MAX_QUEUED' },
  { key: 'routes', variable: 'AU_ROUTES' },
  { key: 'server.host', variable: 'AU_HOST' },
  { key: 'server.port', variable: 'AU_PORT' },
  { key: 'server.apiKeys', variable: 'AU_API_KEYS' },
  { key: 'server.waitSeconds', variable: 'AU_WAIT_SECONDS' },
  { key: 'server.maxWaitSeconds', variable: 'AU_MAX_WAIT_SECONDS' },
  { key: 'server.bodyLimit', variable: 'AU_BODY_LIMIT' },
  { key: 'server.shutdownTimeoutMs', variable: 'AU_SHUTDOWN_TIMEOUT_MS' },
  { key: 'server.logLevel', variable: 'AU_LOG_LEVEL' },
  { key: 'server.sampleTasks', variable: 'AU_SAMPLE_TASKS' },
  { key: 'server.exposeStacks', variable: 'AU_EXPOSE_STACKS' },
  { key: 'server.dataDir', variable: 'AU_DATA_DIR' },
  { key: 'server.tracing', variable: 'AU_TRACING' },
  { key: 'server.requestTimeoutMs', variable: 'AU_REQUEST_TIMEOUT_MS' },
  { key: 'server.headersTimeoutMs', variable: 'AU_HEADERS_TIMEOUT_MS' },
  { key: 'server.connectionTimeoutMs', variable: 'AU_CONNECTION_TIMEOUT_MS' },
] as const;

/** Variables from one block of settings, and for each the file key it came from. */
export interface SettingsVariables {
  variables: Record<string, string>;
  /** `AU_STORE` → `au.config.yaml, key "presets.production.store"`. */
  origins: Record<string, string>;
}

/**
 * Turns the settings of a file (all of it, or one `presets` block at `prefix`) into the
 * `AU_*` variables they stand for. Paths are relative to the file: task modules,
 * `fs:` stores and the data directory are made absolute here.
 */
export function settingsVariables(
  settings: ParsedSettings,
  file: { path: string; displayName: string },
  prefix: string,
): SettingsVariables {
  const directory = dirname(file.path);
  const variables: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const put = (variable: string, key: string, value: string) => {
    variables[variable] = value;
    origins[variable] = `${file.displayName}, key "${prefix}${key}"`;
  };
  for (const [variable, value] of Object.entries(settings.env ?? {})) put(variable, `env.${variable}`, value);
  for (const { key, variable } of SETTING_VARIABLES) {
    const value = valueAt(settings, key);
    if (value === undefined) continue;
    put(variable, key, toVariable(key, value, directory));
  }
  return { variables, origins };
}

function valueAt(settings: ParsedSettings, key: string): unknown {
  let value: unknown = settings;
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

function toVariable(key: string, value: unknown, directory: string): string {
  if (key === 'tasks') return (value as string[]).map((item) => taskModule(item, directory)).join(',');
  if (key === 'store') return fsStoreFromFile(value as string, directory);
  if (key === 'server.dataDir') return resolve(directory, value as string);
  if (key === 'routes') {
    return Object.entries(value as Record<string, string | undefined>)
      .filter(([, backend]) => backend !== undefined)
      .map(([hint, backend]) => `${hint}=${backend}`)
      .join(',');
  }
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** A relative task module is relative to the file; a package name stays as it is. */
function taskModule(specifier: string, directory: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier))
    return pathToFileURL(resolve(directory, specifier)).href;
  return specifier;
}

function fsStoreFromFile(value: string, directory: string): string {
  if (!value.startsWith('fs:')) return value;
  return `fs:${resolve(directory, value.slice('fs:'.length))}`;
}
