import { loadConfigFile } from './load-config-file';
import {
  choosePreset,
  DEFAULT_DATA_DIR,
  type PresetChoice,
  type PresetName,
  presetVariables,
} from './presets';
import { settingsVariables } from './settings-variables';

type Env = Readonly<Record<string, string | undefined>>;

export interface ResolveConfigOptions {
  /** @default process.env */
  env?: Env;
  /** Where the file search starts. @default process.cwd() */
  cwd?: string;
  /** A config file to read instead of searching (`--config`); wins over `AU_CONFIG`. */
  configFile?: string;
  /** The preset when neither `AU_PRESET` nor `NODE_ENV` names one. @default 'development' */
  defaultPreset?: PresetName;
  /** The last directory searched for a file. @default the home directory */
  stopDir?: string;
}

/** Every setting in force, and where each came from. */
export interface ResolvedConfig {
  preset: PresetChoice;
  /** The config file read, if any. */
  file: { path: string; displayName: string } | undefined;
  /**
   * The environment with every `AU_*` setting in force: the preset's, under the file's,
   * under the file's block for the preset, under the real environment's.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** For each variable that came from the file or the preset, where: for error messages. */
  origins: Readonly<Record<string, string>>;
}

/**
 * Layers the settings: preset < file < the file's `presets.<preset>` block < environment.
 * The file is `configFile`, else `AU_CONFIG`, else the nearest `au.config.*` from `cwd`.
 */
export async function resolveConfig(options: ResolveConfigOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const preset = choosePreset(env, options.defaultPreset ?? 'development');
  const configFile = options.configFile ?? nonEmpty(env.AU_CONFIG);
  const file = await loadConfigFile({
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.stopDir === undefined ? {} : { stopDir: options.stopDir }),
    ...(configFile === undefined
      ? {}
      : { configFile, configFileSetting: options.configFile === undefined ? 'AU_CONFIG' : '--config' }),
  });
  const layers = [];
  if (file !== undefined) {
    layers.push(settingsVariables(file.settings, file, ''));
    const block = file.settings.presets?.[preset.name];
    if (block !== undefined) layers.push(settingsVariables(block, file, `presets.${preset.name}.`));
  }
  const variables: Record<string, string> = {};
  const origins: Record<string, string> = {};
  for (const layer of layers) {
    Object.assign(variables, layer.variables);
    Object.assign(origins, layer.origins);
  }
  for (const [name, value] of Object.entries(env)) {
    if (nonEmpty(value) === undefined) continue;
    variables[name] = value as string;
    delete origins[name];
  }
  const dataDir = variables.AU_DATA_DIR ?? DEFAULT_DATA_DIR;
  for (const [name, value] of Object.entries(presetVariables(preset.name, dataDir))) {
    if (variables[name] !== undefined) continue;
    variables[name] = value;
    origins[name] = `the ${preset.name} preset's ${name}`;
  }
  return {
    preset,
    file: file === undefined ? undefined : { path: file.path, displayName: file.displayName },
    env: variables,
    origins,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
