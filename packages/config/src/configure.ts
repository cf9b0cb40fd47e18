import { setDefaults } from '@au/core';
import { type BuildConfigOptions, buildConfig, type LoadedConfig } from './build-config';
import { type ResolveConfigOptions, resolveConfig } from './resolve-config';

export interface ConfigureOptions extends ResolveConfigOptions, BuildConfigOptions {}

/**
 * Reads the configuration (preset, `au.config.*`, environment), opens its store and
 * backend, and makes them the defaults of every `asyncCompute`, `submitTask` and
 * `getResult` that names none (and, under the `test` preset, the virtual clock).
 * Resolves with the configuration: `close()` it when the program ends.
 */
export async function configure(options: ConfigureOptions = {}): Promise<LoadedConfig> {
  const config = await buildConfig(await resolveConfig(options), options);
  setDefaults({ store: config.store, backend: config.backend, clock: config.clock });
  return config;
}
