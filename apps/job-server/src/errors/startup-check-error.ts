import { AuError } from '@au/core';

/**
 * The store or the backend did not answer when the server started: a missing migration,
 * an unreachable service, wrong credentials. The server stops at once with the cause
 * instead of starting and answering 500 to every request.
 */
export class StartupCheckError extends AuError {
  readonly component: string;

  constructor({ component, cause }: { component: string; cause: unknown }) {
    super('AU_STARTUP_CHECK', {
      message: `[au] [job-server] the ${component} did not answer, so the server did not start: ${(cause as Error)?.message ?? String(cause)}`,
      cause,
    });
    this.name = 'StartupCheckError';
    this.component = component;
  }

  static override isInstance(error: unknown): error is StartupCheckError {
    return AuError.isInstance(error) && error.name === 'StartupCheckError';
  }
}
