import { resolve } from 'node:path';
import { ConfigError } from '@au/core';
import type { StoreProvider } from '@au/core/kit';
import { FileSystemStore } from './file-system-store';

/** Directory used by `AU_STORE=fs` when `AU_DATA_DIR` is not set either. */
export const DEFAULT_DATA_DIR = './.au-data';

/**
 * Lets `configFromEnv` build a `FileSystemStore`: `AU_STORE=fs:PATH` (relative paths are
 * resolved against the current directory), or `AU_STORE=fs` for `AU_DATA_DIR`, else `./.au-data`.
 */
export const storeProvider: StoreProvider = {
  matches: (value) => value === 'fs' || value.startsWith('fs:'),
  create: ({ value, env }) => {
    const path =
      value === 'fs' ? env.AU_DATA_DIR?.trim() || DEFAULT_DATA_DIR : value.slice('fs:'.length).trim();
    if (path === '') {
      throw new ConfigError({
        setting: 'AU_STORE',
        message: '"fs:" needs a directory after the colon, e.g. fs:./.au-data',
      });
    }
    return new FileSystemStore({ root: resolve(path) });
  },
};
