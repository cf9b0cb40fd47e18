import {
  asyncCompute,
  ConfigError,
  getDefaults,
  InProcessBackend,
  MemoryStore,
  setDefaults,
  TimeoutError,
} from '@au/core';
import { conformanceTasksUrl, SyncTestBackend } from '@au/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildConfig, type LoadedConfig } from '../src/build-config';
import { configure } from '../src/configure';
import { resolveConfig } from '../src/resolve-config';
import { type TempProject, tempProject } from './temp-project';

let project: TempProject;
let opened: LoadedConfig | undefined;
let previous: ReturnType<typeof getDefaults>;
beforeEach(() => {
  project = tempProject();
  previous = getDefaults();
});
afterEach(async () => {
  setDefaults(previous);
  await opened?.close();
  opened = undefined;
  project.remove();
});

const importModule = (name: string) => import(name) as Promise<Record<string, unknown>>;
const open = async (env: Record<string, string>) => {
  opened = await buildConfig(await resolveConfig({ env, cwd: project.dir, stopDir: project.dir }), {
    importModule,
  });
  return opened;
};

describe('buildConfig', () => {
  describe('when the preset is development', () => {
    it('should open a MemoryStore and an InProcessBackend', async () => {
      const config = await open({ AU_PRESET: 'development' });
      expect(config.store).toBeInstanceOf(MemoryStore);
      expect(config.backend).toBeInstanceOf(InProcessBackend);
    });
  });

  describe('when the preset is production', () => {
    it('should open the persistent default: an fs store under AU_DATA_DIR and the threads backend', async () => {
      const config = await open({
        AU_PRESET: 'production',
        AU_DATA_DIR: `${project.dir}/data`,
        AU_TASKS: String(conformanceTasksUrl),
      });
      expect(config.describe).toEqual({ store: `fs:${project.dir}/data`, backend: 'threads' });
      expect(config.store.constructor.name).toBe('FileSystemStore');
      expect(config.backend.constructor.name).toBe('ThreadsBackend');
    });

    it('should open what the file says for production', async () => {
      project.write('au.config.yaml', 'presets:\n  production:\n    store: memory\n    backend: inline\n');
      const config = await open({ AU_PRESET: 'production' });
      expect(config.store).toBeInstanceOf(MemoryStore);
      expect(config.backend).toBeInstanceOf(InProcessBackend);
    });
  });

  describe('when the preset is test', () => {
    it('should open a SyncTestBackend on a virtual clock', async () => {
      const config = await open({ NODE_ENV: 'test' });
      expect(config.preset).toEqual({ name: 'test', source: 'NODE_ENV' });
      expect(config.backend.name).toBe('sync-test');
      expect(config.clock.now()).toBe(0);
      await (config.clock as unknown as { advance(ms: number): Promise<void> }).advance(5000);
      expect(config.clock.now()).toBe(5000);
    });

    it('should say what to install when @au/testing is missing', async () => {
      const missing = async (name: string) => {
        if (name.startsWith('@au/testing')) {
          throw Object.assign(new Error(`Cannot find package '@au/testing'`), {
            code: 'ERR_MODULE_NOT_FOUND',
          });
        }
        return importModule(name);
      };
      const resolved = await resolveConfig({
        env: { AU_PRESET: 'test' },
        cwd: project.dir,
        stopDir: project.dir,
      });
      await expect(buildConfig(resolved, { importModule: missing })).rejects.toThrow(
        /^\[au\] the test preset: .*npm install -D @au\/testing/,
      );
    });
  });

  describe('when a value from the file is bad', () => {
    it("should name the file's key, not the variable", async () => {
      project.write('au.config.yaml', 'backend: sidekiq\n');
      const error = await open({}).catch((caught: unknown) => caught);
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe(
        '[au] au.config.yaml, key "backend": unknown backend "sidekiq": use one of inline, threads, process, bullmq, postgres, supabase, sync-test',
      );
    });
  });
});

describe('configure', () => {
  describe('when the preset is test', () => {
    it('should make asyncCompute run on the SyncTestBackend and the virtual clock', async () => {
      opened = await configure({
        env: { AU_PRESET: 'test' },
        cwd: project.dir,
        stopDir: project.dir,
        importModule,
      });
      expect(getDefaults().backend).toBeInstanceOf(SyncTestBackend);
      const double = asyncCompute((x: number) => x * 2);
      const handle = await double(21);
      // SyncTestBackend: the work is done when the launch resolves.
      expect(await handle.status()).toBe('completed');
      expect(await handle.result()).toBe(42);
      const slow = asyncCompute(() => new Promise(() => undefined), { timeout: 60_000 });
      const pending = slow();
      await (opened.clock as unknown as { advance(ms: number): Promise<void> }).advance(60_000);
      const record = await (await pending).record();
      expect(record.status).toBe('failed');
      expect(record.error?.name).toBe(TimeoutError.name);
    });
  });

  describe('when a config file sets the store and backend', () => {
    it('should make them the defaults of asyncCompute', async () => {
      project.write('au.config.json', JSON.stringify({ store: 'memory', backend: 'inline', concurrency: 3 }));
      opened = await configure({
        env: { AU_PRESET: 'production' },
        cwd: project.dir,
        stopDir: project.dir,
        importModule,
      });
      expect(getDefaults().store).toBe(opened.store);
      const handle = await asyncCompute((name: string) => `hello ${name}`)('au');
      expect(await handle.result({ timeout: 5000 })).toBe('hello au');
      expect(await opened.store.get(handle.key)).toMatchObject({ status: 'completed' });
    });
  });
});
