import { AuError, isAuErrorNamed } from './au-error';

/** The computation was cancelled: its result will never exist. */
export class CancelledError extends AuError {
  readonly key: string | undefined;
  readonly reason: string | undefined;

  constructor({ key, reason }: { key?: string; reason?: string } = {}) {
    const what = key === undefined ? 'the computation' : `computation "${key}"`;
    super('AU_CANCELLED', { message: `[au] ${what} was cancelled${reason ? `: ${reason}` : ''}` });
    this.name = 'CancelledError';
    this.key = key;
    this.reason = reason;
  }

  static override isInstance(error: unknown): error is CancelledError {
    return isAuErrorNamed(error, 'CancelledError');
  }
}
