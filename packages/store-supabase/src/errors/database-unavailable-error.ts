import { AuError } from '@au/core';

const NAME = 'DatabaseUnavailableError';

/**
 * An `au_*` call got no answer because the database (or PostgREST in front of it) could
 * not be reached: a refused, reset or terminated connection, an administrator shutdown,
 * a timeout. The code ends in `_UNAVAILABLE`, so core's `persist` tries the write again
 * through the outage instead of failing the computation.
 */
export class DatabaseUnavailableError extends AuError {
  readonly fn: string;

  constructor({ fn, component, cause }: { fn: string; component: string; cause?: unknown }) {
    super('AU_DATABASE_UNAVAILABLE', {
      message:
        `[au] [${component}] ${fn} got no answer: the database is unreachable (${describe(cause)}). ` +
        'Lifecycle writes are tried again while it comes back; check the connection URL and that PostgreSQL is up',
      cause,
    });
    this.name = NAME;
    this.fn = fn;
  }

  static override isInstance(error: unknown): error is DatabaseUnavailableError {
    return AuError.isInstance(error) && error.name === NAME;
  }
}

function describe(cause: unknown): string {
  const code = (cause as { code?: unknown })?.code;
  const message = (cause as Error)?.message ?? String(cause);
  return typeof code === 'string' && code !== '' && !message.includes(code) ? `${code}: ${message}` : message;
}
