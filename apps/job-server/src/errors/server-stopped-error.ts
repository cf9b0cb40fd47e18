import { AuError } from '@au/core';

/**
 * A computation was pending or running when a previous server process stopped, on a
 * backend that keeps work only in memory: it never finished and will not resume.
 */
export class ServerStoppedError extends AuError {
  readonly key: string;

  constructor({ key, status }: { key: string; status: string }) {
    super('AU_SERVER_STOPPED', {
      message: `[au] [job-server] the server stopped before "${key}" finished (it was ${status}); its work was lost: submit it again`,
    });
    this.name = 'ServerStoppedError';
    this.key = key;
  }

  static override isInstance(error: unknown): error is ServerStoppedError {
    return AuError.isInstance(error) && error.name === 'ServerStoppedError';
  }
}
