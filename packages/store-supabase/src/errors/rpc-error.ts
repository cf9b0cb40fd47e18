import { AuError } from '@au/core';

/** An `au_*` function call failed for another reason: the database's code and message are kept. */
export class RpcError extends AuError {
  readonly fn: string;
  /** SQLSTATE or PostgREST code, e.g. `23505`, `PGRST203` (no answer at all is a `DatabaseUnavailableError`). */
  readonly sqlState: string | undefined;

  constructor({
    fn,
    component,
    sqlState,
    detail,
    cause,
  }: { fn: string; component: string; sqlState?: string; detail: string; cause?: unknown }) {
    super('AU_RPC', {
      message: `[au] [${component}] ${fn} failed${sqlState === undefined ? '' : ` (${sqlState})`}: ${detail}`,
      cause,
    });
    this.name = 'RpcError';
    this.fn = fn;
    this.sqlState = sqlState;
  }

  static override isInstance(error: unknown): error is RpcError {
    return AuError.isInstance(error) && error.name === 'RpcError';
  }
}
