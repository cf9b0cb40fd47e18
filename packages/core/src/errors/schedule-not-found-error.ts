import { AuError, isAuErrorNamed } from './au-error';

/** No schedule has this id (in this store or backend). */
export class ScheduleNotFoundError extends AuError {
  readonly schedule: string;

  constructor({ schedule, where }: { schedule: string; where: string }) {
    super('AU_SCHEDULE_NOT_FOUND', {
      message: `[au] no schedule "${schedule}" in ${where}: list the schedules to see their ids`,
    });
    this.name = 'ScheduleNotFoundError';
    this.schedule = schedule;
  }

  static override isInstance(error: unknown): error is ScheduleNotFoundError {
    return isAuErrorNamed(error, 'ScheduleNotFoundError');
  }
}
