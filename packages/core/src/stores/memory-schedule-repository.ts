import type { ScheduleRepository, ScheduleState } from '../contracts/scheduler';

/** Schedules in a Map, for `MemoryStore`: copies in and out, so callers never share a state object. */
export class MemoryScheduleRepository implements ScheduleRepository {
  readonly #states = new Map<string, ScheduleState>();

  async get(id: string): Promise<ScheduleState | undefined> {
    const state = this.#states.get(id);
    return state === undefined ? undefined : structuredClone(state);
  }

  async list(): Promise<ScheduleState[]> {
    return [...this.#states.values()].map((state) => structuredClone(state));
  }

  async save(state: ScheduleState, expected?: number | null): Promise<boolean> {
    const current = this.#states.get(state.id);
    if (expected === null && current !== undefined) return false;
    if (typeof expected === 'number' && current?.revision !== expected) return false;
    this.#states.set(state.id, structuredClone(state));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.#states.delete(id);
  }
}
