import { describe, expect, it } from 'vitest';
import { describeBulk, runBulk } from '../src/app/bulk';
import { countViews } from '../src/app/counts-view';
import { duration, queueWait, relative, runDuration } from '../src/app/format';
import { resolveRefs } from '../src/app/resolve-refs';
import type { TaskView } from '../src/app/types';

const at = (iso: string) => Date.parse(iso);
const view = (fields: Partial<TaskView>): TaskView => ({
  taskId: 'a',
  task: 'work',
  status: 'pending',
  attempt: 0,
  maxAttempts: 1,
  createdAt: '2026-12-03T07:00:00.000Z',
  ...fields,
});

describe('dashboard formats', () => {
  describe('when a duration is written', () => {
    it.each([
      [850, '850 ms'],
      [1234, '1.2 s'],
      [12_300, '12 s'],
      [245_000, '4 min 5 s'],
      [3_600_000, '1 h'],
      [7_380_000, '2 h 3 min'],
      [273_600_000, '3 d 4 h'],
    ])('should write %i ms as %s', (ms, text) => {
      expect(duration(ms)).toBe(text);
    });
  });

  describe('when a time is written relative to now', () => {
    it('should say ago for the past and in for the future', () => {
      const now = at('2026-12-03T07:10:00.000Z');
      expect(relative('2026-12-03T07:09:59.500Z', now)).toBe('just now');
      expect(relative('2026-12-03T07:09:48.000Z', now)).toBe('12 s ago');
      expect(relative('2026-12-03T07:05:00.000Z', now)).toBe('5 min ago');
      expect(relative('2026-12-03T10:10:00.000Z', now)).toBe('in 3 h');
    });
  });

  describe('when a computation is timed', () => {
    const now = at('2026-12-03T07:00:10.000Z');
    it('should count the queue wait until now while pending, then until its start', () => {
      expect(queueWait(view({}), now)).toBe(10_000);
      expect(queueWait(view({ status: 'running', startedAt: '2026-12-03T07:00:02.000Z' }), now)).toBe(2000);
      expect(queueWait(view({ status: 'cancelled' }), now)).toBeUndefined();
    });

    it('should count the run time until now while running, then until it finished', () => {
      expect(runDuration(view({}), now)).toBeUndefined();
      expect(runDuration(view({ status: 'running', startedAt: '2026-12-03T07:00:02.000Z' }), now)).toBe(8000);
      expect(
        runDuration(
          view({
            status: 'completed',
            startedAt: '2026-12-03T07:00:02.000Z',
            finishedAt: '2026-12-03T07:00:03.500Z',
          }),
          now,
        ),
      ).toBe(1500);
    });
  });
});

describe('dashboard counts', () => {
  it('should count per status and per task and status', () => {
    const { total, byTask } = countViews([
      view({ taskId: '1', status: 'failed' }),
      view({ taskId: '2', status: 'completed' }),
      view({ taskId: '3', task: 'other', status: 'completed' }),
    ]);
    expect(total).toEqual({ pending: 0, running: 0, completed: 2, failed: 1, cancelled: 0 });
    expect(byTask.get('work')).toMatchObject({ completed: 1, failed: 1 });
    expect(byTask.get('other')).toMatchObject({ completed: 1, failed: 0 });
  });
});

describe('dashboard bulk actions', () => {
  it('should run every id, at most four at once, and collect the failures', async () => {
    let running = 0;
    let most = 0;
    const outcome = await runBulk(
      Array.from({ length: 10 }, (_, index) => `id-${index}`),
      async (id) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running -= 1;
        if (id === 'id-3') throw new Error('not found');
      },
    );
    expect(most).toBe(4);
    expect(outcome.done).toBe(9);
    expect(outcome.failed).toEqual([{ id: 'id-3', message: 'not found' }]);
    expect(describeBulk('Deleted', outcome)).toBe('Deleted 9; 1 failed (id-3: not found).');
  });

  describe('when an input schema points at components', () => {
    const components = {
      Level: { type: 'string', enum: ['low', 'high'] },
      Node: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          children: { type: 'array', items: { $ref: '#/components/schemas/Node' } },
        },
      },
    };

    it('should inline them, merge a single allOf, and stop a recursion as {}', () => {
      const schema = resolveRefs(
        {
          type: 'object',
          properties: {
            level: { $ref: '#/components/schemas/Level' },
            tree: { allOf: [{ $ref: '#/components/schemas/Node' }], description: 'a tree' },
            gone: { $ref: '#/components/schemas/Missing' },
          },
        } as never,
        components,
      );
      expect(schema.properties?.level).toEqual({ type: 'string', enum: ['low', 'high'] });
      expect(schema.properties?.tree).toEqual({
        type: 'object',
        description: 'a tree',
        properties: { name: { type: 'string' }, children: { type: 'array', items: {} } },
      });
      expect(schema.properties?.gone).toEqual({});
    });
  });
});
