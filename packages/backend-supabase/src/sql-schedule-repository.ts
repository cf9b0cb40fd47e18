import type { ScheduleRepository, ScheduleState } from '@au/core';
import type { RpcTransport } from '@au/store-supabase';

/** What `au_schedule_claim_due` answers: the schedules leased to the caller, and the next tick of the others. */
export interface DueSchedules {
  due: ScheduleState[];
  /** The earliest next tick of the queue's other active schedules (ms), or null. */
  next: number | null;
}

/**
 * Schedules in the `au_schedules` table of the migration, through its SQL functions
 * (`au_schedule_*`; `rpc()` on Supabase): the repository core's `StoreScheduler` keeps
 * them in for the Postgres and Supabase queue backends, plus the due-schedule lease the
 * workers fire from (`claimDue`, `release`). Each schedule belongs to the queue that
 * saved it last: that queue's workers fire it.
 */
export class SqlScheduleRepository implements ScheduleRepository {
  readonly #transport: RpcTransport;
  readonly #queue: string;

  constructor(transport: RpcTransport, queue: string) {
    this.#transport = transport;
    this.#queue = queue;
  }

  async get(id: string): Promise<ScheduleState | undefined> {
    const state = await this.#transport.call<ScheduleState | null>(
      'au_schedule_get',
      { p_id: id },
      { idempotent: true },
    );
    return state ?? undefined;
  }

  /** The schedules of this queue, by id. */
  list(): Promise<ScheduleState[]> {
    return this.#transport.call('au_schedule_list', { p_queue: this.#queue }, { idempotent: true });
  }

  /**
   * Compare-and-set on `revision` in one statement. Safe to repeat: a save whose reply was
   * lost answers `false` the second time, and the caller reads the schedule again.
   */
  save(state: ScheduleState, expected?: number | null): Promise<boolean> {
    const mode = expected === undefined ? 'any' : expected === null ? 'absent' : 'revision';
    return this.#transport.call(
      'au_schedule_save',
      { p_state: state, p_queue: this.#queue, p_mode: mode, p_expected: expected ?? undefined },
      { json: ['p_state'], idempotent: true },
    );
  }

  delete(id: string): Promise<boolean> {
    return this.#transport.call('au_schedule_delete', { p_id: id }, { idempotent: true });
  }

  /**
   * Leases to `worker`, for `leaseMs`, up to `limit` schedules of this queue due at `now`
   * that no other firer holds (`FOR UPDATE SKIP LOCKED`): one firer handles a schedule
   * at a time. `tasks`: only schedules of these tasks.
   */
  claimDue(
    worker: string,
    now: number,
    { leaseMs, limit, tasks }: { leaseMs: number; limit: number; tasks?: readonly string[] },
  ): Promise<DueSchedules> {
    return this.#transport.call('au_schedule_claim_due', {
      p_queue: this.#queue,
      p_worker: worker,
      p_now_ms: now,
      p_lease_ms: leaseMs,
      p_limit: limit,
      p_tasks: tasks === undefined ? undefined : [...tasks],
    });
  }

  /** Ends `worker`'s lease of the schedule. */
  release(id: string, worker: string): Promise<boolean> {
    return this.#transport.call('au_schedule_release', { p_id: id, p_worker: worker }, { idempotent: true });
  }
}
