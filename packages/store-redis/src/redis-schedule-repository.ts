import { assertValidKey, type ScheduleRepository, type ScheduleState } from '@au/core';
import type { Redis } from 'ioredis';

// Compare-and-set of one schedule in the schedules hash. ARGV: id, JSON, expected
// revision ('' = whatever is stored, 'none' = only when there is none).
const SAVE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[3] == 'none' then
  if current then return 0 end
elseif ARGV[3] ~= '' then
  if not current then return 0 end
  if tostring(cjson.decode(current).revision) ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Schedules of a `RedisStore` in one hash, `{prefix}:schedules` (id → JSON), next to the
 * records and in their Cluster slot. `save` is one Lua script: the revision is compared
 * and the schedule written atomically.
 */
export class RedisScheduleRepository implements ScheduleRepository {
  readonly #key: string;
  readonly #run: <T>(operation: string, command: (redis: Redis) => Promise<T>) => Promise<T>;

  constructor(options: {
    key: string;
    run: <T>(operation: string, command: (redis: Redis) => Promise<T>) => Promise<T>;
  }) {
    this.#key = options.key;
    this.#run = options.run;
  }

  async get(id: string): Promise<ScheduleState | undefined> {
    assertValidKey(id, 'store-redis');
    const text = await this.#run('schedules.get', (redis) => redis.hget(this.#key, id));
    return text === null ? undefined : (JSON.parse(text) as ScheduleState);
  }

  async list(): Promise<ScheduleState[]> {
    const all = await this.#run('schedules.list', (redis) => redis.hvals(this.#key));
    return all.map((text) => JSON.parse(text) as ScheduleState);
  }

  async save(state: ScheduleState, expected?: number | null): Promise<boolean> {
    assertValidKey(state.id, 'store-redis');
    const condition = expected === undefined ? '' : expected === null ? 'none' : String(expected);
    const saved = await this.#run('schedules.save', (redis) =>
      redis.eval(SAVE_SCRIPT, 1, this.#key, state.id, JSON.stringify(state), condition),
    );
    return saved === 1;
  }

  async delete(id: string): Promise<boolean> {
    assertValidKey(id, 'store-redis');
    return (await this.#run('schedules.delete', (redis) => redis.hdel(this.#key, id))) === 1;
  }
}
