import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuConfig, configFromEnv } from '@au/core';
import type { ServerSettings } from './server-settings';

type Env = Readonly<Record<string, string | undefined>>;

/** The sample tasks module, as a `file:` URL (`.ts` from source, `.js` once built). */
export const SAMPLE_TASKS_URL = new URL(
  `./sample-tasks${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
).href;

/** The embedded default backend: work in worker threads. */
export const DEFAULT_BACKEND = 'threads';

/** The embedded default store: records as files under `AU_DATA_DIR` (./.au-data). */
export function defaultStore(settings: ServerSettings): string {
  return `fs:${settings.dataDir}`;
}

/**
 * The store, backend and tasks of the server, from `AU_STORE`, `AU_BACKEND`,
 * `AU_TASKS`, `AU_TTL_SECONDS` and `AU_CONCURRENCY`. The sample tasks module is put
 * first in `AU_TASKS` (unless `AU_SAMPLE_TASKS=false`), so thread, process and queue
 * backends load it like the user's own modules, and the server serves its tasks too.
 */
export async function loadConfig(env: Env, settings: ServerSettings): Promise<AuConfig> {
  const defaults = { store: defaultStore(settings), backend: DEFAULT_BACKEND };
  return configFromEnv({ env: withTaskModules(env, settings), defaults, importModule });
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
