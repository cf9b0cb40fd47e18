import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@au/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/load-config-file';
import { type TempProject, tempProject } from './temp-project';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

const load = (options: { configFile?: string; cwd?: string } = {}) =>
  loadConfigFile({ cwd: project.dir, stopDir: project.dir, ...options });

// The same settings in every format au reads.
const FORMATS: [name: string, content: string][] = [
  ['au.config.json', JSON.stringify({ store: 'memory', backend: 'inline', ttl: 60, server: { port: 9000 } })],
  ['au.config.yaml', 'store: memory\nbackend: inline\nttl: 60\nserver:\n  port: 9000\n'],
  ['au.config.yml', 'store: memory\nbackend: inline\nttl: 60\nserver:\n  port: 9000\n'],
  ['au.config.toml', 'store = "memory"\nbackend = "inline"\nttl = 60\n\n[server]\nport = 9000\n'],
  [
    'au.config.mjs',
    "export default { store: 'memory', backend: 'inline', ttl: 60, server: { port: 9000 } };\n",
  ],
  [
    'au.config.js',
    "export default { store: 'memory', backend: 'inline', ttl: 60, server: { port: 9000 } };\n",
  ],
  [
    'au.config.cjs',
    "module.exports = { store: 'memory', backend: 'inline', ttl: 60, server: { port: 9000 } };\n",
  ],
  [
    'au.config.ts',
    "type Settings = { store: string; backend: string; ttl: number; server: { port: number } };\nconst settings: Settings = { store: 'memory', backend: 'inline', ttl: 60, server: { port: 9000 } };\nexport default settings;\n",
  ],
  [
    'au.config.mts',
    "const port: number = 9000;\nexport default { store: 'memory', backend: 'inline', ttl: 60, server: { port } };\n",
  ],
];

describe('loadConfigFile', () => {
  describe.each(FORMATS)('when the directory holds %s', (name, content) => {
    it('should find and read it', async () => {
      // `.js` is ESM only where package.json says so, as in a real project.
      if (name === 'au.config.js') project.write('package.json', '{"type":"module"}');
      project.write(name, content);
      const loaded = await load();
      expect(loaded?.displayName).toBe(name);
      expect(loaded?.settings).toEqual({
        store: 'memory',
        backend: 'inline',
        ttl: 60,
        server: { port: 9000 },
      });
    });
  });

  describe('when there is no config file', () => {
    it('should resolve undefined', async () => {
      expect(await load()).toBeUndefined();
    });
  });

  describe('when the file is in a parent directory', () => {
    it('should find it from a subdirectory', async () => {
      project.write('au.config.yaml', 'backend: inline\n');
      const cwd = join(project.dir, 'src', 'deep');
      mkdirSync(cwd, { recursive: true });
      const loaded = await load({ cwd });
      expect(loaded?.path).toBe(join(project.dir, 'au.config.yaml'));
      expect(loaded?.settings.backend).toBe('inline');
    });
  });

  describe('when configFile names a file', () => {
    it('should read that file rather than the one found by searching', async () => {
      project.write('au.config.yaml', 'backend: inline\n');
      project.write('other.toml', 'backend = "threads"\n');
      const loaded = await load({ configFile: 'other.toml' });
      expect(loaded?.settings.backend).toBe('threads');
    });

    it('should fail naming the path when there is no such file', async () => {
      await expect(load({ configFile: 'missing.yaml' })).rejects.toThrow(
        /--config: no config file at .*missing\.yaml/,
      );
    });

    it('should refuse an extension it cannot read', async () => {
      project.write('settings.ini', 'backend=inline\n');
      await expect(load({ configFile: 'settings.ini' })).rejects.toThrow(
        /settings\.ini is not a config file au reads: use one of \.ts/,
      );
    });
  });

  describe('when the file has a syntax error', () => {
    it.each([
      ['au.config.json', '{ "store": "memory", }'],
      ['au.config.yaml', 'store: memory\n  backend: [inline\n'],
      ['au.config.toml', 'store = memory"\n'],
      ['au.config.ts', 'export default { store: "memory" as };\n'],
    ])('should name the file %s', async (name, content) => {
      project.write(name, content);
      const error = await load().catch((caught: unknown) => caught);
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as ConfigError).message).toMatch(
        new RegExp(`^\\[au\\] ${name.replace('.', '\\.')}: cannot be read: `),
      );
    });
  });

  describe('when the file has an unknown key', () => {
    it('should name the file and the key, and suggest the key it resembles', async () => {
      project.write('au.config.yaml', 'backnd: threads\n');
      await expect(load()).rejects.toThrow(
        '[au] au.config.yaml: unknown key "backnd" (did you mean "backend"?)',
      );
    });

    it('should give the whole path of a nested key', async () => {
      project.write('au.config.json', JSON.stringify({ presets: { production: { server: { prot: 80 } } } }));
      await expect(load()).rejects.toThrow(
        '[au] au.config.json: unknown key "presets.production.server.prot" (did you mean "presets.production.server.port"?)',
      );
    });

    it('should refuse a preset au does not have', async () => {
      project.write('au.config.toml', '[presets.staging]\nbackend = "threads"\n');
      await expect(load()).rejects.toThrow('[au] au.config.toml: unknown key "presets.staging"');
    });
  });

  describe('when a value has the wrong type', () => {
    it('should say which key and what was expected', async () => {
      project.write('au.config.yaml', 'server:\n  port: "eighty"\nconcurrency: 0\n');
      const error = (await load().catch((caught: unknown) => caught)) as Error;
      expect(error.message).toContain('[au] au.config.yaml: ');
      expect(error.message).toMatch(/key "server\.port": invalid input: expected number, received string/);
      expect(error.message).toMatch(/key "concurrency": too small: expected number to be >=1/);
    });

    it('should refuse a file that is not an object of settings', async () => {
      project.write('au.config.json', '["memory"]');
      await expect(load()).rejects.toThrow(/\[au\] au\.config\.json: must hold an object of settings/);
    });
  });
});
