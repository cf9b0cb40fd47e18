import { isTransientStoreError } from '@au/core/kit';
import { postgresUrl } from '@au/testing';
import { describe, expect, it } from 'vitest';
import {
  DatabaseUnavailableError,
  PostgresStore,
  RpcError,
  SupabaseStore,
  translatePgError,
  translateRpcError,
} from '../src/index';

describe('connection failures', () => {
  describe('when pg reports a lost or refused connection', () => {
    it('should be a transient DatabaseUnavailableError', () => {
      const causes = [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
        new Error('Connection terminated unexpectedly'),
        new Error('timeout exceeded when trying to connect'),
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
        Object.assign(new Error('connection failure'), { code: '08006' }),
      ];
      for (const cause of causes) {
        const error = translatePgError(cause, 'au_result_get', 'postgres');
        expect(DatabaseUnavailableError.isInstance(error), cause.message).toBe(true);
        expect((error as DatabaseUnavailableError).code).toBe('AU_DATABASE_UNAVAILABLE');
        expect(isTransientStoreError(error), cause.message).toBe(true);
      }
    });
  });

  describe('when pg reports an error of the statement', () => {
    it('should stay a non-transient RpcError for SQLSTATE classes 22, 23 and 42', () => {
      for (const code of ['22P02', '23505', '42P01']) {
        const error = translatePgError(
          Object.assign(new Error('bad'), { code }),
          'au_result_update',
          'postgres',
        );
        expect(RpcError.isInstance(error), code).toBe(true);
        expect(isTransientStoreError(error), code).toBe(false);
      }
    });
  });

  describe('when PostgREST gives no answer or cannot reach PostgreSQL', () => {
    it('should be a DatabaseUnavailableError, and a PostgREST SQL error an RpcError', () => {
      const unavailable = [
        { status: 0, error: { message: 'TypeError: fetch failed', code: '' } },
        { status: 503, error: { message: 'Could not connect', code: 'PGRST001' } },
        { status: 500, error: { message: 'terminating connection', code: '57P01' } },
      ];
      for (const response of unavailable) {
        const error = translateRpcError({ data: null, ...response }, 'au_claim', 'supabase');
        expect(DatabaseUnavailableError.isInstance(error), response.error.message).toBe(true);
      }
      const bad = translateRpcError(
        { data: null, status: 400, error: { message: 'invalid input syntax', code: '22P02' } },
        'au_claim',
        'supabase',
      );
      expect(RpcError.isInstance(bad)).toBe(true);
      expect(isTransientStoreError(bad)).toBe(false);
    });
  });

  describe('when the Supabase client throws instead of answering', () => {
    it('should reject with DatabaseUnavailableError', async () => {
      const store = new SupabaseStore({
        client: {
          rpc: () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: 'ECONNRESET' })),
        },
      });
      const error = await store.get('k').catch((caught: unknown) => caught);
      expect(DatabaseUnavailableError.isInstance(error)).toBe(true);
    });
  });
});

describe('a PostgresStore whose database does not answer', () => {
  it('should reject with a transient DatabaseUnavailableError', async () => {
    const down = new PostgresStore({
      connection: 'postgres://postgres@127.0.0.1:1/postgres',
      schema: 'public',
    });
    const error = await down.get('k').catch((caught: unknown) => caught);
    expect(DatabaseUnavailableError.isInstance(error)).toBe(true);
    expect(isTransientStoreError(error)).toBe(true);
    await down.close();
  });
});

describe('store options', () => {
  describe('when an option is unknown', () => {
    it('should throw a TypeError naming it', () => {
      expect(() => new PostgresStore({ connection: postgresUrl(), shema: 'x' } as never)).toThrow(
        /PostgresStore: unknown option "shema" \(did you mean "schema"\?\)/,
      );
      expect(
        () =>
          new SupabaseStore({
            client: { rpc: async () => ({ data: null, error: null }) },
            url: 'x',
          } as never),
      ).toThrow(TypeError);
    });
  });
});
