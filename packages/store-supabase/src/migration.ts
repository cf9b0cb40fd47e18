import { readFileSync } from 'node:fs';
import pg from 'pg';
import { assertSchemaName } from './schema-name';

/** The migration's file name, fit for `supabase/migrations/`. */
export const MIGRATION_FILE_NAME = '20250101000000_au.sql';

/** Where the migration file is shipped inside this package. */
export const MIGRATION_FILE_URL = new URL(`../sql/${MIGRATION_FILE_NAME}`, import.meta.url);

let cached: string | undefined;

/**
 * The migration's SQL for `schema` (default `public`): every `public.` reference, the
 * schema statements and the notification channel are written for that schema.
 */
export function migrationSql(schema = 'public'): string {
  cached ??= readFileSync(MIGRATION_FILE_URL, 'utf8');
  return sqlForSchema(cached, schema);
}

/** Migration SQL written for `public` (this one, or an earlier version of it), rewritten for `schema`. */
export function sqlForSchema(sql: string, schema = 'public'): string {
  assertSchemaName(schema);
  if (schema === 'public') return sql;
  return sql
    .replace(/\bpublic\./g, `${schema}.`)
    .replace(/(schema (?:if not exists )?)public\b/g, `$1${schema}`)
    .replace(/'public'/g, `'${schema}'`);
}

/** The `LISTEN` channel the queue's enqueue functions notify for `schema`. */
export function wakeupChannel(schema = 'public'): string {
  return `${schema}.au_wakeup`;
}

/**
 * Applies the migration (idempotent: safe to run again after an upgrade) to the database
 * at `connection` (a URL, a pool or a client), in one transaction.
 */
export async function applyMigration(
  connection: string | pg.Pool | pg.Client,
  { schema = 'public' }: { schema?: string } = {},
): Promise<void> {
  const sql = migrationSql(schema);
  const client = typeof connection === 'string' ? new pg.Client({ connectionString: connection }) : undefined;
  if (client !== undefined) await client.connect();
  const target = client ?? connection;
  try {
    if (target instanceof pg.Pool) {
      const pooled = await target.connect();
      try {
        await runInTransaction(pooled, sql);
      } finally {
        pooled.release();
      }
    } else await runInTransaction(target as pg.Client, sql);
  } finally {
    await client?.end();
  }
}

async function runInTransaction(client: pg.ClientBase, sql: string): Promise<void> {
  await client.query('begin');
  try {
    // Two sessions creating the same objects at once would collide: serialize them.
    await client.query("select pg_advisory_xact_lock(hashtext('au_migration'))");
    await client.query(sql);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
