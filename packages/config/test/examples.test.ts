import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/load-config-file';

// docs/configuration.md shows these files: each format must say the same thing.
const EXAMPLES = fileURLToPath(new URL('../../../examples/config/', import.meta.url));
// au.config.ts imports defineConfig from @au/config, which jiti resolves to the build.
const BUILT = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

const load = async (name: string) => (await loadConfigFile({ cwd: EXAMPLES, configFile: name }))?.settings;

describe('the example config files', () => {
  it.each(['au.config.js', 'au.config.yaml', 'au.config.toml'])(
    'should read %s as au.config.json reads',
    async (name) => {
      const expected = await load('au.config.json');
      expect(expected?.presets?.production?.backend).toBe('threads');
      expect(await load(name)).toEqual(expected);
    },
  );

  it.skipIf(!BUILT)('should read au.config.ts (defineConfig) as au.config.json reads', async () => {
    expect(await load('au.config.ts')).toEqual(await load('au.config.json'));
  });
});
