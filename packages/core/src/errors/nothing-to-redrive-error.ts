import { AuError, isAuErrorNamed } from './au-error';

/** A redrive whose filter matched no failed or cancelled computation. Nothing was changed. */
export class NothingToRedriveError extends AuError {
  /** The filter, as given. */
  readonly filter: Record<string, unknown>;

  constructor({ filter, store }: { filter: Record<string, unknown>; store: string }) {
    super('AU_NOTHING_TO_REDRIVE', {
      message: `[au] [${store}] no failed or cancelled computation matches the redrive filter ${JSON.stringify(filter)}: check the task name, status, tag and since`,
    });
    this.name = 'NothingToRedriveError';
    this.filter = filter;
  }

  static override isInstance(error: unknown): error is NothingToRedriveError {
    return isAuErrorNamed(error, 'NothingToRedriveError');
  }
}
