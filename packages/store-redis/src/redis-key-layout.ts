/**
 * Where a store's keys live. Every key starts with the base, a hash tag such as `{au}`:
 * all keys of one prefix sit in one Redis Cluster slot, so each Lua script touches a
 * single slot. A prefix that already holds a `{…}` hash tag is used as it is.
 */
export class RedisKeyLayout {
  readonly base: string;

  constructor(prefix: string) {
    if (prefix.length === 0 || /\s/.test(prefix)) {
      throw new TypeError(`[au] [store-redis] prefix "${prefix}" must be non-empty, without spaces`);
    }
    this.base = /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
  }

  /** The hash holding one record. */
  record(key: string): string {
    return `${this.base}:r:${key}`;
  }

  /** The pub/sub channel that carries each new version of one record. */
  channel(key: string): string {
    return `${this.base}:c:${key}`;
  }

  /** The pub/sub channel that carries each new record (for `watchAll`). */
  newRecords(): string {
    return `${this.base}:n`;
  }

  /** A pattern matching every record's channel (for `watchAll`). */
  channelPattern(): string {
    return `${escapeGlob(this.base)}:c:*`;
  }

  /** The key a channel belongs to, or `undefined` for another store's channel. */
  keyOfChannel(channel: string): string | undefined {
    const head = `${this.base}:c:`;
    return channel.startsWith(head) ? channel.slice(head.length) : undefined;
  }

  /** The hash of the schedules (id → JSON). */
  schedules(): string {
    return `${this.base}:schedules`;
  }

  allIndex(): string {
    return `${this.base}:i:all`;
  }

  statusIndex(status: string): string {
    return `${this.base}:i:s:${status}`;
  }

  taskIndex(task: string): string {
    return `${this.base}:i:t:${task}`;
  }

  tagIndex(tag: string): string {
    return `${this.base}:i:g:${tag}`;
  }

  /** The string holding one lock's current token, expiring with the hold (RedisLocks). */
  lock(key: string): string {
    return `${this.base}:l:${key}`;
  }

  /** The counter every lock's fencing token is drawn from (RedisLocks). */
  lockFence(): string {
    return `${this.base}:lock-fence`;
  }

  /** A pattern matching every key of this layout (for tests and tooling, never a hot path). */
  pattern(): string {
    return `${escapeGlob(this.base)}:*`;
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
