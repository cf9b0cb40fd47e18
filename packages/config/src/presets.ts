import { ConfigError } from '@au/core';

/** The presets: what store and backend au uses before a file or the environment says otherwise. */
export const PRESET_NAMES = ['development', 'production', 'test'] as const;

export type PresetName = (typeof PRESET_NAMES)[number];

/** Which preset is in force, and what chose it (for the start-up log line). */
export interface PresetChoice {
  name: PresetName;
  /** `AU_PRESET`, `NODE_ENV`, or `default` (the caller's fallback). */
  source: 'AU_PRESET' | 'NODE_ENV' | 'default';
}

type Env = Readonly<Record<string, string | undefined>>;

/** The default data directory of the `production` preset's fs store. */
export const DEFAULT_DATA_DIR = './.au-data';

/**
 * `AU_PRESET` if set (an unknown name is a `ConfigError`), else `NODE_ENV` when it names a
 * preset (so `vitest`, which sets `NODE_ENV=test`, gets the `test` preset), else `fallback`.
 */
export function choosePreset(env: Env, fallback: PresetName): PresetChoice {
  const explicit = env.AU_PRESET?.trim();
  if (explicit) {
    if (isPresetName(explicit)) return { name: explicit, source: 'AU_PRESET' };
    throw new ConfigError({
      setting: 'AU_PRESET',
      message: `unknown preset "${explicit}": use one of ${PRESET_NAMES.join(', ')}`,
    });
  }
  const nodeEnv = env.NODE_ENV?.trim();
  if (nodeEnv && isPresetName(nodeEnv)) return { name: nodeEnv, source: 'NODE_ENV' };
  return { name: fallback, source: 'default' };
}

/**
 * The store and backend of a preset, as the variables they stand for:
 * `development` memory + in-process, `production` the persistent default (records as
 * files under `AU_DATA_DIR`, work in worker threads), `test` memory + SyncTestBackend
 * (and a virtual clock, which `buildConfig` adds).
 */
export function presetVariables(
  name: PresetName,
  dataDir: string,
): Record<'AU_STORE' | 'AU_BACKEND', string> {
  switch (name) {
    case 'development':
      return { AU_STORE: 'memory', AU_BACKEND: 'inline' };
    case 'production':
      return { AU_STORE: `fs:${dataDir}`, AU_BACKEND: 'threads' };
    case 'test':
      return { AU_STORE: 'memory', AU_BACKEND: 'sync-test' };
  }
}

export function isPresetName(value: string): value is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(value);
}
