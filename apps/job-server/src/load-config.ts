import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConfig, type LoadedConfig, type ResolvedConfig, resolveConfig } from '@au/config';
import type { Middleware, TaskLogger } from '@au/core';
import { UsageError } from './errors/usage-error';
import { readServerSettings, type ServerSettings } from './server-settings';

type Env = Readonly<Record<string, string | undefined>>;

/** The sample tasks module, as a `file:` URL (`.ts` from source, `.js` once built). */
export const SAMPLE_TASKS_URL = new URL(
  `./sample-tasks${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
).href;

/** Where the server finds its config file. */
export interface ConfigFileOptions {
  /** `--config`: wins over `AU_CONFIG`; else the nearest `au.config.*` from `cwd`. */
  configFile?: string;
  /** @default process.cwd() */
  cwd?: string;
}

/** Every setting in force for the server, and its own settings read from them. */
export interface ServerConfiguration {
  resolved: ResolvedConfig;
  settings: ServerSettings;
}

/**
 * The preset (`AU_PRESET`, `NODE_ENV`, else `production`: the embedded default, fs store
 * and threads backend), the config file over it and the environment over both; then
 * the server's own settings read from the result.
 */
export async function readConfiguration(
  env: Env,
  options: ConfigFileOptions = {},
): Promise<ServerConfiguration> {
  const resolved = await resolveConfig({ env, defaultPreset: 'production', ...options });
  try {
    return { resolved, settings: readServerSettings(resolved.env) };
  } catch (error) {
    throw withOrigin(error, resolved.origins);
  }
}

/**
 * Opens the store, backend and tasks of a configuration (or of an environment, resolved
 * here as `readConfiguration` does: callers from before config files keep working). The
 * sample tasks module is put first in `AU_TASKS` (unless `AU_SAMPLE_TASKS=false`), so
 * thread, process and queue backends load it like the user's own modules, and the server
 * serves its tasks too.
 */
export async function loadConfig(
  source: ResolvedConfig | Env,
  settings: ServerSettings,
  middleware: readonly Middleware[] = [],
  logger?: TaskLogger,
): Promise<LoadedConfig> {
  const resolved = isResolvedConfig(source)
    ? source
    : await resolveConfig({ env: source, defaultPreset: 'production' });
  return buildConfig(
    { ...resolved, env: withTaskModules(resolved.env, settings) },
    {
      importModule,
      ...(middleware.length === 0 ? {} : { middleware }),
      ...(logger === undefined ? {} : { logger }),
    },
  );
}

function isResolvedConfig(source: ResolvedConfig | Env): source is ResolvedConfig {
  return typeof (source as { preset?: unknown }).preset === 'object';
}

/** The environment with the sample tasks module first in `AU_TASKS` (unless left out). */
export function withTaskModules(env: Env, settings: ServerSettings): Env {
  const userModules = (env.AU_TASKS ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const modules = settings.sampleTasks ? [SAMPLE_TASKS_URL, ...userModules] : userModules;
  return { ...env, AU_TASKS: modules.join(',') };
}

/**
 * Imports store and backend packages from here: they are this app's dependencies, which
 * an isolated install (pnpm) makes visible to the app but not to `@au/core`.
 */
export function importModule(name: string): Promise<Record<string, unknown>> {
  return import(name) as Promise<Record<string, unknown>>;
}

/** A bad server setting that came from the config file says so. */
function withOrigin(error: unknown, origins: Readonly<Record<string, string>>): unknown {
  if (!UsageError.isInstance(error)) return error;
  const variable = /^AU_[A-Z0-9_]+/.exec(error.message)?.[0];
  const origin = variable === undefined ? undefined : origins[variable];
  return origin === undefined ? error : new UsageError(`${error.message} (set by ${origin})`, error.exitCode);
}
