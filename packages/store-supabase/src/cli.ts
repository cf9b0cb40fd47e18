import { parseArgs } from 'node:util';
import { applyMigration, MIGRATION_FILE_NAME, migrationSql } from './migration';

const USAGE = `au-supabase: the au migration for PostgreSQL and Supabase

  au-supabase migrate --url postgres://… [--schema public]   apply it (idempotent)
  au-supabase print [--schema public]                         print it (paste into Supabase's SQL editor)
  au-supabase file                                            print the supabase/migrations/ file name

--url defaults to $DATABASE_URL (on Supabase: the "Session pooler" or direct connection string).`;

/** Runs the `au-supabase` command; returns the exit code. */
export async function runCli(
  argv: readonly string[],
  output: { log(text: string): void; error(text: string): void } = console,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    output.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  const schema = values.schema ?? 'public';
  try {
    switch (command) {
      case 'migrate': {
        const url = values.url ?? env.DATABASE_URL;
        if (!url) {
          output.error(`au-supabase migrate needs --url (or DATABASE_URL)\n\n${USAGE}`);
          return 2;
        }
        await applyMigration(url, { schema });
        output.log(`au migration applied to schema "${schema}"`);
        return 0;
      }
      case 'print':
        output.log(migrationSql(schema));
        return 0;
      case 'file':
        output.log(MIGRATION_FILE_NAME);
        return 0;
      default:
        output.error(command === undefined ? USAGE : `unknown command "${command}"\n\n${USAGE}`);
        return command === undefined || command === 'help' ? 0 : 2;
    }
  } catch (error) {
    output.error(`[au] [au-supabase] ${command} failed: ${(error as Error).message}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { url: { type: 'string' }, schema: { type: 'string' } },
  });
}
