import { describe, expect, it } from 'vitest';
import { BullMQBackend, QueueUnavailableError } from '../src/index';
import { randomName, redisUp, redisUrl } from './helpers';

describe.runIf(redisUp)('backend-bullmq ping', () => {
  describe('when pinged right after it is made', () => {
    it('should wait for its connection instead of failing (a job server pings at start-up)', async () => {
      const backend = new BullMQBackend({ connection: redisUrl, queue: randomName('ping') });
      try {
        await expect(backend.ping()).resolves.toBeUndefined();
      } finally {
        await backend.close();
      }
    });
  });

  describe('when Redis cannot be reached', () => {
    it('should reject with QueueUnavailableError', async () => {
      // Port 1 refuses connections.
      const backend = new BullMQBackend({
        connection: 'redis://127.0.0.1:1',
        queue: 'x',
        launchTimeout: 500,
      });
      try {
        await expect(backend.ping()).rejects.toSatisfy(QueueUnavailableError.isInstance);
      } finally {
        await backend.close();
      }
    });
  });
});
