import type { AuConfigFile } from './config-schema';

/**
 * Types an `au.config.ts` / `au.config.js`: `export default defineConfig({ … })`.
 * It returns its argument; the file is validated when it is loaded.
 */
export function defineConfig(config: AuConfigFile): AuConfigFile {
  return config;
}
