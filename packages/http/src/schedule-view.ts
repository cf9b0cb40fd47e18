import type { Codec, ScheduleState } from '@au/core';
import { z } from 'zod';

/** A schedule as the API shows it. Times are ISO 8601 strings; `input` is decoded. */
export interface ScheduleView {
  id: string;
  task: string;
  cron?: string;
  every?: number;
  timezone?: string;
  input?: unknown;
  startAt?: string;
  endAt?: string;
  overlap: 'skip' | 'allow' | 'queue';
  priority?: number;
  tags?: string[];
  ttl?: number;
  catchUp?: number;
  paused: boolean;
  nextRunAt?: string;
  lastRunAt?: string;
  /** The id (computation key) of the last run: `GET /tasks/{lastTaskId}`. */
  lastTaskId?: string;
  skipped: number;
  createdAt: string;
  updatedAt: string;
}

/** A time given as ISO 8601 text or ms since the epoch. */
const time = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]);

/** The body of `POST /schedules`. Timing and task are checked again by the scheduler. */
export const scheduleBodySchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Unique name; posting the same id replaces the schedule. Default: the task name'),
  task: z.string().min(1).describe('The task to run (one this server serves)'),
  cron: z.string().optional().describe('Cron expression: 5 fields, or 6 with seconds first'),
  every: z.number().int().min(100).optional().describe('Milliseconds between ticks, instead of cron'),
  timezone: z.string().optional().describe('IANA time zone of cron; default UTC'),
  input: z.unknown().optional().describe("The input of every run, checked by the task's schema"),
  startAt: time.optional(),
  endAt: time.optional(),
  overlap: z
    .enum(['skip', 'allow', 'queue'])
    .optional()
    .describe('A tick while the previous run is active; default skip'),
  priority: z.number().optional(),
  tags: z.array(z.string()).optional(),
  ttl: z.number().nonnegative().optional().describe('Seconds each run is kept after it ends'),
  catchUp: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Ms: missed ticks younger than this run after a restart; default 60000'),
});

export type ScheduleBody = z.infer<typeof scheduleBodySchema>;

/** The API view of a stored schedule. */
export function toScheduleView(state: ScheduleState, codec: Codec): ScheduleView {
  const view: ScheduleView = {
    id: state.id,
    task: state.task,
    overlap: state.overlap,
    paused: state.paused,
    skipped: state.skipped ?? 0,
    createdAt: iso(state.createdAt),
    updatedAt: iso(state.updatedAt),
  };
  if (state.cron !== undefined) view.cron = state.cron;
  if (state.every !== undefined) view.every = state.every;
  if (state.timezone !== undefined) view.timezone = state.timezone;
  if (state.args !== undefined) view.input = decoded(codec, state.args);
  if (state.startAt !== undefined) view.startAt = iso(state.startAt);
  if (state.endAt !== undefined) view.endAt = iso(state.endAt);
  if (state.priority !== undefined) view.priority = state.priority;
  if (state.tags !== undefined) view.tags = state.tags;
  if (state.ttl !== undefined) view.ttl = state.ttl;
  if (state.catchUp !== undefined) view.catchUp = state.catchUp;
  if (state.nextRunAt !== undefined) view.nextRunAt = iso(state.nextRunAt);
  if (state.lastRunAt !== undefined) view.lastRunAt = iso(state.lastRunAt);
  if (state.lastKey !== undefined) view.lastTaskId = state.lastKey;
  return view;
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

/** The input as the task gets it; what the codec cannot read is shown as stored. */
function decoded(codec: Codec, args: unknown): unknown {
  try {
    return codec.decode(args);
  } catch {
    return args;
  }
}
