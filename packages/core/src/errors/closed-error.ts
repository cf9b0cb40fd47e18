import { AuError, isAuErrorNamed } from './au-error';

/** A store or backend was used after `close()`. */
export class ClosedError extends AuError {
  constructor({ component }: { component: string }) {
    super('AU_CLOSED', { message: `[au] [${component}] is closed: create a new one to launch more work` });
    this.name = 'ClosedError';
  }

  static override isInstance(error: unknown): error is ClosedError {
    return isAuErrorNamed(error, 'ClosedError');
  }
}
