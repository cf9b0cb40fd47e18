import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@au/core';
import { describe, expect, it } from 'vitest';
import { killProducerMidLaunch, unfinishedAfter } from '../src/index';

const producer = new URL('./fixtures/ticking-producer.mjs', import.meta.url);
const record = (key: string, status: 'pending' | 'completed') => ({
  key,
  task: 't',
  status,
  attempt: 0,
  maxAttempts: 1,
  createdAt: Date.now(),
});

describe('killProducerMidLaunch', () => {
  it('should let the producer run for the time given, then kill it for good', async () => {
    const ticks = join(tmpdir(), `au-ticks-${process.pid}-${Date.now()}`);
    try {
      await killProducerMidLaunch(producer, { launchFor: 200, env: { TICKS_FILE: ticks }, execArgv: [] });
      const counted = readFileSync(ticks, 'utf8').split('\n').length;
      expect(counted).toBeGreaterThan(3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readFileSync(ticks, 'utf8').split('\n').length, 'it ticks no more once killed').toBe(counted);
    } finally {
      if (existsSync(ticks)) rmSync(ticks);
    }
  });

  it('should reject when the producer exits before its first launch', async () => {
    await expect(
      killProducerMidLaunch(producer, { launchFor: 100, env: { EXIT_EARLY: '1' }, execArgv: [] }),
    ).rejects.toThrow('the producer exited early with 3');
  });
});

describe('unfinishedAfter', () => {
  it('should resolve 0 once every record ended, and the count left at the deadline otherwise', async () => {
    const store = new MemoryStore();
    await store.create(record('a', 'pending'));
    await store.create(record('b', 'completed'));
    expect(await unfinishedAfter(store, 150)).toBe(1);
    setTimeout(() => void store.update('a', { status: 'failed' }), 50);
    expect(await unfinishedAfter(store, 2000)).toBe(0);
  });
});
