import {
  type AuConfig,
  type Clock,
  ConfigError,
  configFromEnv,
  type Middleware,
  type TaskLogger,
} from '@au/core';
import type { PresetChoice } from './presets';
import type { ResolvedConfig } from './resolve-config';

/** The store, backend and tasks a resolved configuration describes, and what chose them. */
export interface LoadedConfig extends AuConfig {
  preset: PresetChoice;
  /** The config file read, if any. */
  file: { path: string; displayName: string } | undefined;
}

export interface BuildConfigOptions {
  /**
   * Imports store and backend packages (and `@au/testing` for the `test` preset) by name.
   * Pass `(name) => import(name)` from your application so they resolve from its
   * `node_modules`. @default this package's own `import()`
   */
  importModule?: (name: string) => Promise<Record<string, unknown>>;
  /** Run-side middleware for queue workers the backend runs here (work of other processes). @default none */
  middleware?: readonly Middleware[];
  /** Where the backend logs (queue workers' warnings). @default silent */
  logger?: TaskLogger;
}

/**
 * Opens the store and backend of a resolved configuration (core's `configFromEnv` on its
 * variables). The `test` preset adds a virtual clock from `@au/testing`. A bad value that
 * came from the file is reported against the file's key, not the variable.
 */
export async function buildConfig(
  resolved: ResolvedConfig,
  options: BuildConfigOptions = {},
): Promise<LoadedConfig> {
  const importModule =
    options.importModule ?? ((name: string) => import(name) as Promise<Record<string, unknown>>);
  const clock = resolved.preset.name === 'test' ? await virtualClock(importModule) : undefined;
  let config: AuConfig;
  try {
    config = await configFromEnv({
      env: resolved.env,
      importModule,
      ...(clock === undefined ? {} : { clock }),
      ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  } catch (error) {
    throw restate(error, resolved.origins);
  }
  return Object.assign(config, { preset: resolved.preset, file: resolved.file });
}

/** The `test` preset's clock; `@au/testing` is loaded only now, so nothing else needs it. */
async function virtualClock(importModule: NonNullable<BuildConfigOptions['importModule']>): Promise<Clock> {
  let testing: Record<string, unknown>;
  try {
    testing = await importModule('@au/testing/sync-test');
  } catch (error) {
    throw new ConfigError({
      setting: 'the test preset',
      message:
        'it runs work on the SyncTestBackend with a virtual clock from @au/testing, which cannot be loaded: add it (npm install -D @au/testing), or choose another preset with AU_PRESET',
      cause: error,
    });
  }
  return (testing.createVirtualClock as () => Clock)();
}

/** A `ConfigError` about a variable the file set, said again about the file's key. */
function restate(error: unknown, origins: Readonly<Record<string, string>>): unknown {
  if (!ConfigError.isInstance(error)) return error;
  const origin = origins[error.setting];
  if (origin === undefined) return error;
  return new ConfigError({ setting: origin, message: error.reason, cause: error });
}
