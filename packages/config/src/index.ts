export { type BuildConfigOptions, buildConfig, type LoadedConfig } from './build-config';
export { CONFIG_FILE_BASENAME, CONFIG_FILE_EXTENSIONS } from './config-file-loaders';
export {
  type AuConfigFile,
  type AuSettings,
  configFileSchema,
  type ServerSettingsInput,
  serverSettingsSchema,
  settingsSchema,
} from './config-schema';
export { type ConfigureOptions, configure } from './configure';
export { defineConfig } from './define-config';
export { type LoadConfigFileOptions, type LoadedConfigFile, loadConfigFile } from './load-config-file';
export {
  choosePreset,
  DEFAULT_DATA_DIR,
  isPresetName,
  PRESET_NAMES,
  type PresetChoice,
  type PresetName,
  presetVariables,
} from './presets';
export { type ResolveConfigOptions, type ResolvedConfig, resolveConfig } from './resolve-config';
export { SETTING_VARIABLES } from './settings-variables';
export { validateConfigFile } from './validate-config-file';
