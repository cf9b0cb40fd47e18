import { afterEach, describe, expect, it } from 'vitest';
import { postgresUrl, redisUrl, requireService } from '../src/index';

describe('service urls', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['AU_REDIS_URL', 'AU_PG_URL', 'CI']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  describe('when no variable is set', () => {
    it('should give the local defaults', () => {
      delete process.env.AU_REDIS_URL;
      delete process.env.AU_PG_URL;
      expect(redisUrl()).toBe('redis://127.0.0.1:6379');
      expect(postgresUrl()).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    });
  });

  describe('when variables are set', () => {
    it('should give them', () => {
      process.env.AU_REDIS_URL = 'redis://example:1234/2';
      process.env.AU_PG_URL = 'postgres://u@example:5433/db';
      expect(redisUrl()).toBe('redis://example:1234/2');
      expect(postgresUrl()).toBe('postgres://u@example:5433/db');
    });
  });

  describe('when a service does not answer', () => {
    const nowhere = 'redis://127.0.0.1:1';

    it('should resolve false and warn outside CI', async () => {
      process.env.CI = 'false';
      expect(await requireService('redis', nowhere, { timeout: 500 })).toBe(false);
    });

    it('should throw under CI=true', async () => {
      process.env.CI = 'true';
      await expect(requireService('redis', nowhere, { timeout: 500 })).rejects.toThrow(/not reachable/);
    });
  });

  describe('when the service answers', () => {
    it('should resolve true for the local Redis and PostgreSQL', async () => {
      // Redis and PostgreSQL run on every machine that runs these tests (see the README).
      expect(await requireService('redis')).toBe(true);
      expect(await requireService('postgres')).toBe(true);
    });
  });
});
