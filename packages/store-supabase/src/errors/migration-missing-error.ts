import { AuError } from '@au/core';

/** An `au_*` SQL function is missing: the migration was not applied to this schema. */
export class MigrationMissingError extends AuError {
  readonly fn: string;

  constructor({ fn, component, cause }: { fn: string; component: string; cause?: unknown }) {
    super('AU_MIGRATION_MISSING', {
      message:
        `[au] [${component}] function ${fn} was not found: the au migration is not applied (or the schema cache is stale). ` +
        'Run `npx au-supabase migrate --url <postgres url>` or paste the migration into the SQL editor, ' +
        "then `NOTIFY pgrst, 'reload schema'`",
      cause,
    });
    this.name = 'MigrationMissingError';
    this.fn = fn;
  }

  static override isInstance(error: unknown): error is MigrationMissingError {
    return AuError.isInstance(error) && error.name === 'MigrationMissingError';
  }
}
