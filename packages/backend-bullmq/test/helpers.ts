import { randomUUID } from 'node:crypto';
import { requireService } from '@au/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export const redisUrl = process.env.AU_REDIS_URL || 'redis://127.0.0.1:6379';

/** Under CI a missing Redis fails; elsewhere the suites are skipped with a loud warning. */
export const redisUp = await requireService('redis', redisUrl);

export function randomName(label: string): string {
  return `au-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Queue names and store prefixes a test file used, removed after it. */
export class TestResources {
  readonly queues = new Set<string>();
  readonly prefixes = new Set<string>();

  queue(label: string): string {
    const name = randomName(label);
    this.queues.add(name);
    return name;
  }

  prefix(label: string): string {
    const name = randomName(label);
    this.prefixes.add(name);
    return name;
  }

  async cleanup(): Promise<void> {
    const redis = new Redis(redisUrl);
    try {
      for (const name of this.queues) {
        const queue = new Queue(name, { connection: redis });
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
        await deletePattern(redis, `bull:${name}:*`);
      }
      for (const prefix of this.prefixes) await deletePattern(redis, `{${prefix}}*`);
    } finally {
      redis.disconnect();
    }
  }
}

async function deletePattern(redis: Redis, pattern: string): Promise<void> {
  const escaped = pattern.replace(/[[\]]/g, '\\$&');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', escaped, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** One line a `RecordingLogger` received. */
export interface LoggedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A pino-shaped logger that keeps what it is given, for assertions on warnings. */
export class RecordingLogger {
  readonly lines: LoggedLine[] = [];
  readonly debug = this.#record('debug');
  readonly info = this.#record('info');
  readonly warn = this.#record('warn');
  readonly error = this.#record('error');

  /** Lines of one level whose message matches. */
  find(level: LoggedLine['level'], pattern: RegExp): LoggedLine[] {
    return this.lines.filter((line) => line.level === level && pattern.test(line.message));
  }

  #record(level: LoggedLine['level']) {
    return (...args: unknown[]) => {
      const [first, second] = args;
      if (typeof first === 'string') this.lines.push({ level, fields: {}, message: first });
      else
        this.lines.push({
          level,
          fields: (first ?? {}) as Record<string, unknown>,
          message: String(second ?? ''),
        });
    };
  }
}

/** Polls `check` every 25 ms until it returns a value other than undefined, or throws after `timeout` ms. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeout = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`[test] ${what} did not happen within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
