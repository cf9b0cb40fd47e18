import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineTask,
  deleteSchedule,
  getSchedule,
  InProcessBackend,
  InvalidScheduleError,
  listSchedules,
  MemoryStore,
  nextTick,
  pauseSchedule,
  resumeSchedule,
  ScheduleNotFoundError,
  type ScheduleTiming,
  StoreScheduler,
  schedule,
  scheduleTag,
  ValidationError,
} from '../src/index';

const at = (iso: string) => Date.parse(iso);

describe('nextTick', () => {
  const cases: [string, ScheduleTiming, number, number | undefined][] = [
    ['every, on multiples since the epoch', { every: 1000 }, 1500, 2000],
    ['every, strictly after a tick', { every: 1000 }, 2000, 3000],
    ['every, from startAt', { every: 1000, startAt: 250 }, 1500, 2250],
    ['every, startAt in the future', { every: 1000, startAt: 5250 }, 1500, 5250],
    ['every, past endAt', { every: 1000, endAt: 1999 }, 1500, undefined],
    ['cron in UTC', { cron: '*/5 * * * *' }, at('2026-03-01T10:02:00Z'), at('2026-03-01T10:05:00Z')],
    ['cron with seconds', { cron: '*/10 * * * * *' }, at('2026-03-01T10:00:01Z'), at('2026-03-01T10:00:10Z')],
    [
      'cron in a time zone',
      { cron: '0 9 * * *', timezone: 'Europe/Paris' },
      at('2026-07-01T00:00:00Z'),
      at('2026-07-01T07:00:00Z'),
    ],
    [
      'cron in a time zone, winter time',
      { cron: '0 9 * * *', timezone: 'Europe/Paris' },
      at('2026-01-10T00:00:00Z'),
      at('2026-01-10T08:00:00Z'),
    ],
    [
      'cron from startAt',
      { cron: '0 * * * *', startAt: at('2026-05-01T00:00:00Z') },
      at('2026-01-01T00:00:00Z'),
      at('2026-05-01T00:00:00Z'),
    ],
    [
      'cron past endAt',
      { cron: '0 0 1 1 *', endAt: at('2026-06-01T00:00:00Z') },
      at('2026-02-01T00:00:00Z'),
      undefined,
    ],
  ];
  it.each(cases)('should give the next tick: %s', (_, timing, after, expected) => {
    expect(nextTick(timing, after)).toBe(expected);
  });
});

describe('schedule', () => {
  const opened: { close(): Promise<void> }[] = [];
  const world = () => {
    const store = new MemoryStore();
    const backend = new InProcessBackend();
    opened.push(backend, store);
    return { store, backend };
  };
  afterEach(async () => {
    for (const item of opened.splice(0)) await item.close();
  });
  const greet = defineTask({
    name: 'schedules.greet',
    input: z.object({ name: z.string().transform((name) => name.toUpperCase()) }),
    run: ({ name }) => `hello ${name}`,
  });

  describe('when the options are good', () => {
    it('should fire runs tagged with the schedule, each parsing the input once', async () => {
      const { store, backend } = world();
      const state = await schedule(greet, { every: 150, input: { name: 'ada' }, store, backend });
      expect(state).toMatchObject({ id: 'schedules.greet', every: 150, overlap: 'skip', paused: false });
      expect(state.args).toEqual({ name: 'ada' });
      let found: { key: string; status: string }[] = [];
      for (let tries = 0; tries < 200 && !found.some((record) => record.status === 'completed'); tries++) {
        found = (await store.list({ tag: scheduleTag('schedules.greet') })).records;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const done = found.find((record) => record.status === 'completed')!;
      expect(done.key).toMatch(/^schedules\.greet:\d+$/);
      expect((await store.get(done.key))?.value).toBe('hello ADA');
      expect((await listSchedules({ store, backend })).map((item) => item.id)).toEqual(['schedules.greet']);
      expect(await pauseSchedule('schedules.greet', { store, backend })).toMatchObject({ paused: true });
      expect(await resumeSchedule('schedules.greet', { store, backend })).toMatchObject({ paused: false });
      expect(await getSchedule('schedules.greet', { store, backend })).toMatchObject({ paused: false });
      expect(await deleteSchedule('schedules.greet', { store, backend })).toBe(true);
      expect(await listSchedules({ store, backend })).toEqual([]);
    });

    it('should keep the place of a schedule upserted with the same timing', async () => {
      const { store, backend } = world();
      const first = await schedule(greet, {
        id: 'same',
        cron: '0 3 * * *',
        input: { name: 'a' },
        store,
        backend,
      });
      await pauseSchedule('same', { store, backend });
      const second = await schedule(greet, {
        id: 'same',
        cron: '0 3 * * *',
        input: { name: 'b' },
        store,
        backend,
      });
      expect(second).toMatchObject({ paused: true, nextRunAt: first.nextRunAt, createdAt: first.createdAt });
      expect(second.args).toEqual({ name: 'b' });
    });
  });

  describe('when the options are bad', () => {
    it.each([
      ['a bad cron expression', { cron: 'every day' }, 'cron'],
      ['an unknown time zone', { cron: '0 3 * * *', timezone: 'Nowhere/Land' }, 'timezone'],
      ['both cron and every', { cron: '0 3 * * *', every: 1000 }, 'cron/every'],
      ['an endAt in the past', { every: 1000, endAt: new Date(1000) }, 'endAt'],
      ['a bad overlap policy', { every: 1000, overlap: 'never' as never }, 'overlap'],
    ])('should refuse %s with InvalidScheduleError and store nothing', async (_, options, field) => {
      const { store, backend } = world();
      const error = await schedule(greet, { input: { name: 'a' }, store, backend, ...options }).catch(
        (caught: unknown) => caught,
      );
      expect(InvalidScheduleError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ field, code: 'AU_INVALID_SCHEDULE' });
      expect(await listSchedules({ store, backend })).toEqual([]);
    });

    it('should refuse an input the schema rejects with ValidationError and store nothing', async () => {
      const { store, backend } = world();
      await expect(
        schedule(greet, { every: 1000, input: { name: 3 } as never, store, backend }),
      ).rejects.toSatisfy(ValidationError.isInstance);
      expect(await listSchedules({ store, backend })).toEqual([]);
    });

    it('should refuse an unknown option with a TypeError naming it', async () => {
      const { store, backend } = world();
      await expect(schedule(greet, { every: 1000, evrey: 5, store, backend } as never)).rejects.toThrow(
        /unknown option "evrey"/,
      );
    });

    it('should refuse pausing a schedule that does not exist with ScheduleNotFoundError', async () => {
      const { store, backend } = world();
      await expect(pauseSchedule('nope', { store, backend })).rejects.toSatisfy(
        ScheduleNotFoundError.isInstance,
      );
    });

    it('should refuse a store that keeps no schedules when the scheduler is opened', () => {
      const { store, backend } = world();
      const bare = Object.create(store, { schedules: { value: undefined } });
      expect(() => new StoreScheduler({ store: bare, backend, findTask: () => undefined })).toThrow(
        /keeps no schedules/,
      );
    });
  });
});
