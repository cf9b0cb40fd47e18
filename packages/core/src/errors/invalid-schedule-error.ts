import { AuError, isAuErrorNamed } from './au-error';

/**
 * A schedule was refused before anything was stored: a bad cron expression or time zone,
 * both or neither of `cron` and `every`, a bad id, window or overlap policy, or a task
 * that does not exist. `field` names the part that failed.
 */
export class InvalidScheduleError extends AuError {
  readonly schedule: string | undefined;
  readonly field: string;

  constructor({
    schedule,
    field,
    problem,
    cause,
  }: { schedule?: string; field: string; problem: string; cause?: unknown }) {
    const which = schedule === undefined ? 'a schedule' : `schedule "${schedule}"`;
    super('AU_INVALID_SCHEDULE', { message: `[au] ${which}: ${field} ${problem}`, cause });
    this.name = 'InvalidScheduleError';
    this.schedule = schedule;
    this.field = field;
  }

  static override isInstance(error: unknown): error is InvalidScheduleError {
    return isAuErrorNamed(error, 'InvalidScheduleError');
  }
}
