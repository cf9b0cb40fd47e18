// Temporary: core's schedule helpers until @au/core/kit exports them (branch schedules-core).
export { checkScheduleSpec } from './check-schedule-spec';
export { nextTick } from './next-tick';
