import { AuError } from '@au/core';

/** The database refused to run an `au_*` function for this role (SQLSTATE 42501). */
export class PermissionError extends AuError {
  readonly fn: string;

  constructor({ fn, component, cause }: { fn: string; component: string; cause?: unknown }) {
    super('AU_PERMISSION', {
      message:
        `[au] [${component}] permission denied for ${fn}: this key lacks the service role. ` +
        'Use the service role key (SUPABASE_SERVICE_ROLE_KEY), never the anon key: the au functions are granted to service_role only',
      cause,
    });
    this.name = 'PermissionError';
    this.fn = fn;
  }

  static override isInstance(error: unknown): error is PermissionError {
    return AuError.isInstance(error) && error.name === 'PermissionError';
  }
}
