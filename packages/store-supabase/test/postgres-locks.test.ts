import { postgresUrl, requireService, testLocks, testLocksAcrossProcesses } from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMigration,
  createSupabaseRpcClient,
  DatabaseUnavailableError,
  PostgresLocks,
  SupabaseLocks,
} from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresLocks', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  beforeAll(async () => {
    database = await freshSchema();
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });

  // A pool per holder, as separate processes would have.
  testLocks(
    'PostgresLocks',
    () => new PostgresLocks({ connection: postgresUrl(), schema: database.schema, max: 2 }),
    {
      extra: (makeLocks) => {
        describe('when a lock is held and released', () => {
          it('should keep the key row with its last token, timed by the database clock', async () => {
            const locks = await makeLocks();
            const before = Number(
              (await database.pool.query(`select ${database.schema}.au_now_ms() as now`)).rows[0].now,
            );
            const held = await locks.acquire('invoice:42', 5000);
            expect(held).toBeDefined();
            expect(held!.expiresAt).toBeGreaterThanOrEqual(before + 5000);
            const row = async () =>
              (
                await database.pool.query(
                  `select token, expires_at from ${database.schema}.au_locks where key = $1`,
                  ['invoice:42'],
                )
              ).rows[0];
            expect(await row()).toEqual({ token: String(held!.token), expires_at: String(held!.expiresAt) });
            expect(await locks.release('invoice:42', held!.token)).toBe(true);
            expect(await row()).toEqual({ token: String(held!.token), expires_at: '0' });
          });
        });

        describe('when roles call the lock functions', () => {
          it('should let service_role only execute them', async () => {
            for (const signature of [
              'au_lock_acquire(text, bigint)',
              'au_lock_renew(text, bigint, bigint)',
              'au_lock_release(text, bigint)',
            ]) {
              const target = `${database.schema}.${signature}`;
              const { rows } = await database.pool.query(
                `select has_function_privilege('anon', $1::regprocedure, 'execute') as anon,
                      has_function_privilege('service_role', $1::regprocedure, 'execute') as service`,
                [target],
              );
              expect(rows[0]).toEqual({ anon: false, service: true });
            }
          });
        });

        describe('when the migration is applied again', () => {
          it('should keep the locks and their tokens', async () => {
            const locks = await makeLocks();
            const held = await locks.acquire('survives-migration', 30_000);
            await applyMigration(database.pool, { schema: database.schema });
            expect(await locks.acquire('survives-migration', 1000)).toBeUndefined();
            expect(await locks.release('survives-migration', held!.token)).toBe(true);
            const next = await locks.acquire('survives-migration', 1000);
            expect(next!.token).toBe(held!.token + 1);
            expect(await locks.release('survives-migration', next!.token)).toBe(true);
          });
        });

        describe('when the database does not answer', () => {
          it('should reject with DatabaseUnavailableError', async () => {
            const locks = new PostgresLocks({ connection: 'postgres://postgres@127.0.0.1:1/postgres' });
            const error = await locks.acquire('unreachable', 1000).catch((caught: unknown) => caught);
            expect(DatabaseUnavailableError.isInstance(error)).toBe(true);
            await locks.close();
          });
        });

        describe('when options are bad', () => {
          it('should refuse them naming the option', () => {
            expect(() => new PostgresLocks({ connection: postgresUrl(), schem: 'x' } as never)).toThrow(
              /unknown option "schem"/,
            );
            expect(() => new PostgresLocks({ connection: 42 } as never)).toThrow(/connection must be/);
            expect(() => new PostgresLocks({ connection: postgresUrl(), schema: 'Bad-Name' })).toThrow(
              /not a schema name/,
            );
          });
        });
      },
    },
  );

  describe('SupabaseLocks', () => {
    testLocks(
      'SupabaseLocks (rpc through the PostgREST emulator)',
      () =>
        new SupabaseLocks({
          client: createSupabaseRpcClient({
            url: emulator.url,
            key: emulator.serviceRoleKey,
            schema: database.schema,
          }),
          schema: database.schema,
        }),
    );
  });

  testLocksAcrossProcesses('PostgresLocks', {
    contender: new URL('./fixtures/lock-contender.ts', import.meta.url),
    args: () => [postgresUrl(), database.schema],
  });
});
