import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/resolve-config';
import { type TempProject, tempProject } from './temp-project';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

const resolve = (env: Record<string, string> = {}, configFile?: string) =>
  resolveConfig({
    env,
    cwd: project.dir,
    stopDir: project.dir,
    ...(configFile === undefined ? {} : { configFile }),
  });

describe('resolveConfig', () => {
  describe('when nothing chooses a preset', () => {
    it('should use the default preset: development, memory + in-process', async () => {
      const resolved = await resolve();
      expect(resolved.preset).toEqual({ name: 'development', source: 'default' });
      expect(resolved.env).toMatchObject({ AU_STORE: 'memory', AU_BACKEND: 'inline' });
    });

    it("should use the caller's default preset when it gives one", async () => {
      const resolved = await resolveConfig({
        env: {},
        cwd: project.dir,
        stopDir: project.dir,
        defaultPreset: 'production',
      });
      expect(resolved.preset.name).toBe('production');
    });
  });

  describe('when AU_PRESET or NODE_ENV names a preset', () => {
    it.each([
      [{ AU_PRESET: 'development' }, 'development', { AU_STORE: 'memory', AU_BACKEND: 'inline' }],
      [{ AU_PRESET: 'production' }, 'production', { AU_STORE: 'fs:./.au-data', AU_BACKEND: 'threads' }],
      [{ AU_PRESET: 'test' }, 'test', { AU_STORE: 'memory', AU_BACKEND: 'sync-test' }],
      [{ NODE_ENV: 'test' }, 'test', { AU_STORE: 'memory', AU_BACKEND: 'sync-test' }],
      [{ NODE_ENV: 'production' }, 'production', { AU_STORE: 'fs:./.au-data', AU_BACKEND: 'threads' }],
      [{ NODE_ENV: 'test', AU_PRESET: 'production' }, 'production', { AU_BACKEND: 'threads' }],
      [{ AU_PRESET: 'production', AU_DATA_DIR: '/var/au' }, 'production', { AU_STORE: 'fs:/var/au' }],
    ])('%j should give the %s preset', async (env, preset, variables) => {
      const resolved = await resolve(env);
      expect(resolved.preset.name).toBe(preset);
      expect(resolved.env).toMatchObject(variables);
    });

    it('should ignore a NODE_ENV that names no preset', async () => {
      expect((await resolve({ NODE_ENV: 'staging' })).preset).toEqual({
        name: 'development',
        source: 'default',
      });
    });

    it('should refuse an unknown AU_PRESET', async () => {
      await expect(resolve({ AU_PRESET: 'prod' })).rejects.toThrow(
        '[au] AU_PRESET: unknown preset "prod": use one of development, production, test',
      );
    });
  });

  describe('when a config file sets values', () => {
    it('should put the file over the preset, paths made relative to the file', async () => {
      project.write(
        'au.config.yaml',
        'store: fs:./records\nbackend: process\ntasks: [./tasks.js, some-package]\nttl: 3600\nserver:\n  port: 9090\n  apiKeys: [a, b]\n  sampleTasks: false\nenv:\n  AU_QUEUE: jobs\n',
      );
      const resolved = await resolve();
      expect(resolved.file?.displayName).toBe('au.config.yaml');
      expect(resolved.env).toMatchObject({
        AU_STORE: `fs:${join(project.dir, 'records')}`,
        AU_BACKEND: 'process',
        AU_TASKS: `${pathToFileURL(join(project.dir, 'tasks.js')).href},some-package`,
        AU_TTL_SECONDS: '3600',
        AU_PORT: '9090',
        AU_API_KEYS: 'a,b',
        AU_SAMPLE_TASKS: 'false',
        AU_QUEUE: 'jobs',
      });
      expect(resolved.origins.AU_PORT).toBe('au.config.yaml, key "server.port"');
    });

    it("should put the preset's block over the rest of the file", async () => {
      project.write(
        'au.config.toml',
        'backend = "process"\n\n[presets.production]\nstore = "redis://127.0.0.1:6379"\nbackend = "bullmq"\n',
      );
      const production = await resolve({ AU_PRESET: 'production' });
      expect(production.env).toMatchObject({ AU_STORE: 'redis://127.0.0.1:6379', AU_BACKEND: 'bullmq' });
      expect(production.origins.AU_BACKEND).toBe('au.config.toml, key "presets.production.backend"');
      const development = await resolve({ AU_PRESET: 'development' });
      expect(development.env).toMatchObject({ AU_STORE: 'memory', AU_BACKEND: 'process' });
    });

    it('should let the environment override the file', async () => {
      project.write('au.config.json', JSON.stringify({ backend: 'process', server: { port: 9090 } }));
      const resolved = await resolve({ AU_BACKEND: 'threads', AU_PORT: '7070', AU_HOST: '' });
      expect(resolved.env).toMatchObject({ AU_BACKEND: 'threads', AU_PORT: '7070' });
      expect(resolved.origins.AU_BACKEND).toBeUndefined();
      expect(resolved.env.AU_HOST).toBeUndefined();
    });
  });

  describe('when --config or AU_CONFIG names the file', () => {
    it('should read the file AU_CONFIG names', async () => {
      project.write('au.config.yaml', 'backend: inline\n');
      project.write('elsewhere.yaml', 'backend: process\n');
      const resolved = await resolve({ AU_CONFIG: 'elsewhere.yaml' });
      expect(resolved.env.AU_BACKEND).toBe('process');
    });

    it('should prefer --config over AU_CONFIG', async () => {
      project.write('one.json', '{"backend":"process"}');
      project.write('two.json', '{"backend":"threads"}');
      const resolved = await resolve({ AU_CONFIG: 'one.json' }, 'two.json');
      expect(resolved.env.AU_BACKEND).toBe('threads');
    });

    it('should say that AU_CONFIG named a missing file', async () => {
      await expect(resolve({ AU_CONFIG: 'nope.yaml' })).rejects.toThrow(
        /^\[au\] AU_CONFIG: no config file at /,
      );
    });
  });
});
