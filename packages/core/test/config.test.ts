import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, InProcessBackend, MemoryStore, redact } from '../src/index';
import { type BackendProviderContext, registerBackendProvider, registerStoreProvider } from '../src/kit';

async function configError(env: Record<string, string>): Promise<ConfigError> {
  const error = await configFromEnv({ env }).catch((caught: unknown) => caught);
  expect(ConfigError.isInstance(error)).toBe(true);
  return error as ConfigError;
}

describe('configFromEnv', () => {
  describe('when nothing is set', () => {
    it('should use the memory store and the in-process backend', async () => {
      const config = await configFromEnv({ env: {} });
      expect(config.store).toBeInstanceOf(MemoryStore);
      expect(config.backend).toBeInstanceOf(InProcessBackend);
      expect(config.describe).toEqual({ store: 'memory', backend: 'inline' });
      await config.close();
    });
  });

  describe('when values are set', () => {
    it('should read the TTL and the concurrency', async () => {
      const config = await configFromEnv({ env: { AU_TTL_SECONDS: '60', AU_CONCURRENCY: '3' } });
      expect(config.ttl).toBe(60);
      expect(config.concurrency).toBe(3);
      expect((config.backend as InProcessBackend).concurrency).toBe(3);
      await config.close();
    });

    it('should use a registered provider', async () => {
      const store = new MemoryStore();
      registerStoreProvider({ matches: (value) => value === 'custom:one', create: () => store });
      const config = await configFromEnv({ env: { AU_STORE: 'custom:one' } });
      expect(config.store).toBe(store);
      await config.close();
    });
  });

  describe('when a value is wrong', () => {
    it.each([
      [{ AU_TTL_SECONDS: 'soon' }, 'AU_TTL_SECONDS', 'whole number'],
      [{ AU_CONCURRENCY: '0' }, 'AU_CONCURRENCY', 'whole number'],
      [{ AU_STORE: 'mongodb://x' }, 'AU_STORE', 'unknown store'],
      [{ AU_BACKEND: 'kafka' }, 'AU_BACKEND', 'unknown backend'],
      [{ AU_TASKS: './no/such/tasks.js' }, 'AU_TASKS', 'cannot load task module'],
    ])('should explain %j', async (env, setting, words) => {
      const error = await configError(env);
      expect(error.setting).toBe(setting);
      expect(error.message).toContain(words);
    });

    it('should name the package to install for a known form that is missing', async () => {
      const error = await configError({ AU_STORE: 'redis://127.0.0.1:6379' });
      expect(error.message).toContain('needs the package @au/store-redis, which is not installed');
    });

    it('should import store packages through the given importer', async () => {
      const store = new MemoryStore();
      const config = await configFromEnv({
        env: { AU_STORE: 'fs:./somewhere' },
        importModule: async (name) => ({
          storeProvider: { matches: (value: string) => value.startsWith('fs:'), create: () => store },
          name,
        }),
      });
      expect(config.store).toBe(store);
      await config.close();
    });
  });

  describe('when showing a URL', () => {
    it('should hide the password', () => {
      expect(redact('redis://user:secret@host:6379')).toBe('redis://user:***@host:6379');
      expect(redact('postgres://postgres@127.0.0.1/db')).toBe('postgres://postgres@127.0.0.1/db');
    });
  });

  describe('when given middleware', () => {
    it('should hand it to the backend provider (for its queue workers)', async () => {
      let seen: BackendProviderContext | undefined;
      registerBackendProvider({
        matches: (value) => value === 'config-test-middleware',
        create: (context) => {
          seen = context;
          return new InProcessBackend();
        },
      });
      const middleware = [{ name: 'probe' }];
      const config = await configFromEnv({ env: { AU_BACKEND: 'config-test-middleware' }, middleware });
      expect(seen?.middleware).toBe(middleware);
      await config.close();
    });
  });
});
