import { AuError } from '@au/core';

/**
 * A worker's lease on a queue row expired and the row went to another worker: the work
 * here is aborted, and its writes are refused (they are fenced by the lease token).
 */
export class LeaseLostError extends AuError {
  readonly key: string;

  constructor({ key, component }: { key: string; component: string }) {
    super('AU_LEASE_LOST', {
      message:
        `[au] [${component}] the lease on "${key}" expired and went to another worker: ` +
        'heartbeats did not reach the database in time (raise leaseMs if the event loop stalls)',
    });
    this.name = 'LeaseLostError';
    this.key = key;
  }

  static override isInstance(error: unknown): error is LeaseLostError {
    return AuError.isInstance(error) && error.name === 'LeaseLostError';
  }
}
