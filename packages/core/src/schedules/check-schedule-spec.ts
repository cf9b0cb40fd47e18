import { DEFAULT_CATCH_UP, OVERLAP_POLICIES, type ScheduleSpec } from '../contracts/scheduler';
import { InvalidScheduleError } from '../errors/invalid-schedule-error';
import { isValidKey } from '../keys';
import { cronFor } from './next-tick';

/** Longest schedule id: its tick keys (`<id>:<ms>`) must stay valid keys. */
export const MAX_SCHEDULE_ID_LENGTH = 100;
/** Shortest `every`: a firer polls; sub-100 ms ticks would be mostly late. */
export const MIN_EVERY = 100;

const SPEC_FIELDS = new Set<string>([
  'id',
  'task',
  'cron',
  'every',
  'timezone',
  'args',
  'startAt',
  'endAt',
  'overlap',
  'priority',
  'tags',
  'ttl',
  'catchUp',
]);

/**
 * The spec with its defaults (`overlap: 'skip'`, `catchUp: DEFAULT_CATCH_UP`), or
 * `InvalidScheduleError` naming the field that is wrong. Every scheduler calls it in
 * `upsert`, before anything is stored.
 */
export function checkScheduleSpec(spec: ScheduleSpec): ScheduleSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new InvalidScheduleError({ field: 'the spec', problem: 'must be an object' });
  }
  const id = typeof spec.id === 'string' ? spec.id : undefined;
  const fail = (field: string, problem: string): never => {
    throw new InvalidScheduleError({ ...(id === undefined ? {} : { schedule: id }), field, problem });
  };
  for (const name of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(name))
      fail(`"${name}"`, `is not a schedule field (known: ${[...SPEC_FIELDS].join(', ')})`);
  }
  if (!isValidKey(spec.id) || spec.id.length > MAX_SCHEDULE_ID_LENGTH) {
    fail(
      'id',
      `must be 1 to ${MAX_SCHEDULE_ID_LENGTH} of the characters A-Z a-z 0-9 _ . : -, got ${JSON.stringify(spec.id)}`,
    );
  }
  if (typeof spec.task !== 'string' || spec.task.length === 0) fail('task', 'must be a task name');
  if ((spec.cron === undefined) === (spec.every === undefined)) {
    fail(
      'cron/every',
      'exactly one of them is needed: a cron expression, or every = milliseconds between ticks',
    );
  }
  if (spec.every !== undefined && !(Number.isInteger(spec.every) && spec.every >= MIN_EVERY)) {
    fail('every', `must be a whole number of milliseconds, at least ${MIN_EVERY}, got ${String(spec.every)}`);
  }
  if (spec.timezone !== undefined) {
    if (spec.cron === undefined) fail('timezone', 'applies only to a cron expression');
    if (typeof spec.timezone !== 'string' || !isTimeZone(spec.timezone)) {
      fail(
        'timezone',
        `must be an IANA time zone such as "Europe/Paris" or "UTC", got ${JSON.stringify(spec.timezone)}`,
      );
    }
  }
  if (spec.cron !== undefined) {
    if (typeof spec.cron !== 'string') fail('cron', 'must be a string');
    try {
      cronFor(spec.cron, spec.timezone).nextRun();
    } catch (error) {
      throw new InvalidScheduleError({
        schedule: spec.id,
        field: 'cron',
        problem: `"${spec.cron}" is not a valid cron expression (${(error as Error).message}); use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "*/5 * * * *"`,
        cause: error,
      });
    }
  }
  for (const field of ['startAt', 'endAt'] as const) {
    const value = spec[field];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      fail(field, `must be a time in ms since the epoch, got ${String(value)}`);
    }
  }
  if (spec.startAt !== undefined && spec.endAt !== undefined && spec.endAt <= spec.startAt) {
    fail('endAt', 'must be after startAt');
  }
  const overlap = spec.overlap ?? 'skip';
  if (!OVERLAP_POLICIES.includes(overlap)) {
    fail('overlap', `must be one of ${OVERLAP_POLICIES.join(', ')}, got ${JSON.stringify(overlap)}`);
  }
  if (spec.priority !== undefined && !(typeof spec.priority === 'number' && Number.isFinite(spec.priority))) {
    fail('priority', `must be a number, got ${String(spec.priority)}`);
  }
  if (
    spec.tags !== undefined &&
    !(Array.isArray(spec.tags) && spec.tags.every((tag) => typeof tag === 'string'))
  ) {
    fail('tags', 'must be a list of strings');
  }
  for (const field of ['ttl', 'catchUp'] as const) {
    const value = spec[field];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      fail(field, `must be a number ≥ 0, got ${String(value)}`);
    }
  }
  const checked: ScheduleSpec = { ...spec, overlap, catchUp: spec.catchUp ?? DEFAULT_CATCH_UP };
  for (const name of Object.keys(checked) as (keyof ScheduleSpec)[]) {
    if (checked[name] === undefined) delete checked[name];
  }
  return checked;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
