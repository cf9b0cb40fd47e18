import { AuHttpError, type ScheduleRequest, type ScheduleView } from '@au/client';
import type { CommandContext } from '../../command-context';
import { CliError } from '../../errors/cli-error';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { formatTable } from '../../format';
import { parseInput } from '../../parse-input';

/** What `au schedules <action>` does. */
export type ScheduleAction = 'list' | 'show' | 'create' | 'pause' | 'resume' | 'delete';

export interface SchedulesOptions {
  action: ScheduleAction;
  /** The schedule id (show, pause, resume, delete; create: `--id`). */
  id?: string;
  /** create: the task name. */
  task?: string;
  /** create: `key=value` pairs of the input. */
  pairs?: string[];
  /** create: `--input`, JSON or `@file.json`. */
  input?: string;
  cron?: string;
  /** Milliseconds, from `--every 30s`. */
  every?: number;
  timezone?: string;
  overlap?: 'skip' | 'allow' | 'queue';
  /** Ms since the epoch, from `--start-at <date>`. */
  startAt?: number;
  endAt?: number;
  /** Milliseconds, from `--catch-up 5m`. */
  catchUp?: number;
  tag?: string[];
}

/**
 * `au schedules [list]`, `au schedules show|pause|resume|delete <id>`,
 * `au schedules create <task> [key=value…] --cron … | --every …`: the server's schedules.
 * An unknown id exits 3; a bad schedule exits 2 with the server's reason.
 */
export async function run(options: SchedulesOptions, context: CommandContext): Promise<number> {
  const client = context.client();
  const fail = (error: unknown): never => {
    if (AuHttpError.isInstance(error) && error.code === 'SCHEDULE_NOT_FOUND') {
      throw new CliError({
        message: `no schedule "${options.id}" on ${context.url} (see au schedules list)`,
        exitCode: EXIT_CODES.unreachable,
        code: 'SCHEDULE_NOT_FOUND',
        cause: error,
      });
    }
    throw explainError(error, context);
  };
  switch (options.action) {
    case 'list': {
      const schedules = await client.schedules().catch(fail);
      if (context.json) context.io.out(`${JSON.stringify(schedules)}\n`);
      else if (schedules.length === 0) context.io.err('no schedules\n');
      else context.io.out(`${formatScheduleTable(schedules)}\n`);
      return EXIT_CODES.ok;
    }
    case 'create': {
      if ((options.cron === undefined) === (options.every === undefined)) {
        throw new CliError({
          message: 'give exactly one of --cron "<expression>" and --every <duration> (e.g. --every 30s)',
          exitCode: EXIT_CODES.usage,
          code: 'USAGE',
        });
      }
      const request: ScheduleRequest = { task: options.task! };
      const input = parseInput(options.input, options.pairs ?? []);
      if (input !== undefined) request.input = input;
      if (options.id !== undefined) request.id = options.id;
      if (options.cron !== undefined) request.cron = options.cron;
      if (options.every !== undefined) request.every = options.every;
      if (options.timezone !== undefined) request.timezone = options.timezone;
      if (options.overlap !== undefined) request.overlap = options.overlap;
      if (options.startAt !== undefined) request.startAt = options.startAt;
      if (options.endAt !== undefined) request.endAt = options.endAt;
      if (options.catchUp !== undefined) request.catchUp = options.catchUp;
      if (options.tag !== undefined) request.tags = options.tag;
      return print(context, await client.createSchedule(request).catch(fail));
    }
    case 'show':
      return print(context, await client.schedule(options.id!).catch(fail));
    case 'pause':
      return print(context, await client.pauseSchedule(options.id!).catch(fail));
    case 'resume':
      return print(context, await client.resumeSchedule(options.id!).catch(fail));
    case 'delete': {
      const answer = await client.deleteSchedule(options.id!).catch(fail);
      context.io.out(context.json ? `${JSON.stringify(answer)}\n` : `deleted schedule ${answer.id}\n`);
      return EXIT_CODES.ok;
    }
  }
}

function print(context: CommandContext, schedule: ScheduleView): number {
  context.io.out(context.json ? `${JSON.stringify(schedule)}\n` : `${formatSchedule(schedule)}\n`);
  return EXIT_CODES.ok;
}

/** The table of `au schedules list`. */
export function formatScheduleTable(schedules: readonly ScheduleView[]): string {
  const rows = [['ID', 'TASK', 'WHEN', 'STATE', 'NEXT RUN', 'LAST RUN']];
  for (const schedule of schedules) {
    rows.push([
      schedule.id,
      schedule.task,
      when(schedule),
      schedule.paused ? 'paused' : schedule.nextRunAt === undefined ? 'ended' : 'active',
      schedule.nextRunAt ?? '-',
      schedule.lastRunAt ?? '-',
    ]);
  }
  return formatTable(rows);
}

/** One line per field, for create, show, pause and resume. */
export function formatSchedule(schedule: ScheduleView): string {
  const lines: [string, string][] = [
    ['id', schedule.id],
    ['task', schedule.task],
    ['when', when(schedule)],
    ['state', schedule.paused ? 'paused' : 'active'],
    ['overlap', schedule.overlap],
  ];
  if (schedule.input !== undefined) lines.push(['input', JSON.stringify(schedule.input)]);
  if (schedule.nextRunAt !== undefined) lines.push(['next run', schedule.nextRunAt]);
  if (schedule.lastRunAt !== undefined)
    lines.push(['last run', `${schedule.lastRunAt} (${schedule.lastTaskId})`]);
  if (schedule.skipped > 0) lines.push(['skipped', String(schedule.skipped)]);
  return formatTable(lines);
}

function when(schedule: ScheduleView): string {
  if (schedule.cron !== undefined)
    return `cron ${schedule.cron}${schedule.timezone ? ` ${schedule.timezone}` : ''}`;
  return `every ${formatDuration(schedule.every ?? 0)}`;
}

function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
