import { describe, expect, it } from 'vitest';
import { defineTask, InProcessBackend, MemoryStore, submitTask } from '../src/index';
import { LogCollector, MAX_LOG_BYTES, MAX_LOG_LINES, toLogLine } from '../src/internal/log-collector';

describe('LogCollector', () => {
  describe('when a task logs more lines than are kept', () => {
    it('should keep the newest lines and count the dropped ones', () => {
      const collector = new LogCollector();
      for (let index = 0; index < MAX_LOG_LINES + 5; index++)
        collector.add('info', [`line ${index}`], index, 1);
      const logs = collector.snapshot();
      expect(logs.lines).toHaveLength(MAX_LOG_LINES);
      expect(logs.dropped).toBe(5);
      expect(logs.lines[0]?.message).toBe('line 5');
      expect(logs.lines.at(-1)?.message).toBe(`line ${MAX_LOG_LINES + 4}`);
    });

    it('should stay within the byte bound with long messages', () => {
      const collector = new LogCollector();
      for (let index = 0; index < 100; index++) collector.add('warn', ['x'.repeat(5000)], index, 1);
      const logs = collector.snapshot();
      const bytes = logs.lines.reduce((sum, line) => sum + line.message.length, 0);
      expect(bytes).toBeLessThanOrEqual(MAX_LOG_BYTES);
      expect(logs.dropped).toBe(100 - logs.lines.length);
      expect(logs.lines[0]?.message.length).toBeLessThan(5000);
    });
  });

  describe('when a line is made from pino-style arguments', () => {
    it('should take the object as data and the rest as the message', () => {
      const line = toLogLine('error', [{ err: new TypeError('bad'), rows: 3n }, 'failed', 2], 7, 2);
      expect(line).toEqual({
        time: 7,
        level: 'error',
        message: 'failed 2',
        attempt: 2,
        data: { err: { name: 'TypeError', message: 'bad' }, rows: '3' },
      });
    });
  });

  describe('when a computation retries', () => {
    it('should keep the lines of every attempt, each marked with its attempt', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const flaky = defineTask({
        name: 'log-collector.flaky',
        retry: { attempts: 2, delay: 1 },
        run: (_input: number, context) => {
          context.log.info(`attempt ${context.attempt}`);
          if (context.attempt === 1) throw new Error('once');
          return 'ok';
        },
      });
      const handle = await submitTask(flaky, 1, { store, backend });
      expect(await handle.result({ timeout: 5000 })).toBe('ok');
      const logs = await handle.logs();
      expect(logs.lines.map((line) => [line.attempt, line.message])).toEqual([
        [1, 'attempt 1'],
        [2, 'attempt 2'],
      ]);
      await backend.close();
    });
  });
});
