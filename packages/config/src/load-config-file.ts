import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigError } from '@au/core';
import { lilconfig } from 'lilconfig';
import {
  CONFIG_FILE_BASENAME,
  CONFIG_FILE_EXTENSIONS,
  CONFIG_FILE_LOADERS,
  isConfigFileExtension,
} from './config-file-loaders';
import type { ParsedConfigFile } from './config-schema';
import { validateConfigFile } from './validate-config-file';

export interface LoadConfigFileOptions {
  /** Where the search starts, and what a relative `configFile` is relative to. @default process.cwd() */
  cwd?: string;
  /** A file to read instead of searching (`--config`, `AU_CONFIG`). */
  configFile?: string;
  /** Which option named `configFile`, for its errors. @default '--config' */
  configFileSetting?: string;
  /** The last directory searched. @default the home directory */
  stopDir?: string;
}

/** A config file read and validated. */
export interface LoadedConfigFile {
  /** Its absolute path. */
  path: string;
  /** Its path as messages show it: relative to `cwd` when inside it. */
  displayName: string;
  settings: ParsedConfigFile;
}

/**
 * Reads `configFile`, or the first `au.config.{ts,mts,cts,js,mjs,cjs,json,yaml,yml,toml}`
 * found from `cwd` upwards (lilconfig's search); `undefined` when there is none. A file
 * that cannot be parsed, or holds an unknown key or a wrong value, is a `ConfigError`
 * naming the file (and the key).
 */
export async function loadConfigFile(
  options: LoadConfigFileOptions = {},
): Promise<LoadedConfigFile | undefined> {
  const cwd = options.cwd ?? process.cwd();
  const searcher = lilconfig(CONFIG_FILE_BASENAME, {
    searchPlaces: CONFIG_FILE_EXTENSIONS.map((extension) => `${CONFIG_FILE_BASENAME}${extension}`),
    loaders: readErrorsNamingTheFile(cwd),
    cache: false,
    ...(options.stopDir === undefined ? {} : { stopDir: options.stopDir }),
  });
  let found: { filepath: string; config: unknown } | null;
  if (options.configFile === undefined) {
    found = await searcher.search(cwd);
  } else {
    const path = resolve(cwd, options.configFile);
    const setting = options.configFileSetting ?? '--config';
    if (!existsSync(path)) {
      throw new ConfigError({ setting, message: `no config file at ${path}` });
    }
    if (!isConfigFileExtension(path)) {
      throw new ConfigError({
        setting,
        message: `${displayName(path, cwd)} is not a config file au reads: use one of ${CONFIG_FILE_EXTENSIONS.join(', ')}`,
      });
    }
    found = await searcher.load(path);
  }
  if (found === null) return undefined;
  const name = displayName(found.filepath, cwd);
  return { path: found.filepath, displayName: name, settings: validateConfigFile(found.config, name) };
}

/** The loaders, each turning a parse error into a `ConfigError` that names the file. */
function readErrorsNamingTheFile(cwd: string) {
  return Object.fromEntries(
    Object.entries(CONFIG_FILE_LOADERS).map(([extension, load]) => [
      extension,
      async (file: string, content: string) => {
        try {
          return await load(file, content);
        } catch (error) {
          throw new ConfigError({
            setting: displayName(file, cwd),
            message: `cannot be read: ${(error as Error).message}`,
            cause: error,
          });
        }
      },
    ]),
  );
}

function displayName(path: string, cwd: string): string {
  const fromCwd = relative(cwd, path);
  return fromCwd.startsWith('..') || isAbsolute(fromCwd) ? path : fromCwd;
}
