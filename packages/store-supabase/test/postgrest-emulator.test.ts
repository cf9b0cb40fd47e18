import { postgresUrl, requireService } from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

// The endpoint the Supabase tests go through must behave as PostgREST does (see
// shared/notes/supabase-and-postgrest.md): these cases pin each behaviour au relies on.
describe.skipIf(!postgresUp)('startPostgrestEmulator', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  beforeAll(async () => {
    database = await freshSchema();
    const s = database.schema;
    await database.pool.query(`
      create table ${s}.things (id int primary key, at timestamptz, tags text[]);
      create function ${s}.t_scalar(a int, b int default 1) returns int language sql as 'select a + b';
      create function ${s}.t_types(p_at timestamptz, p_doc jsonb, p_tags text[]) returns text language sql
        as $$ select pg_typeof(p_at)::text || '|' || (p_doc->>'x') || '|' || array_length(p_tags, 1) $$;
      create function ${s}.t_set(n int) returns setof int language sql as 'select generate_series(1, n)';
      create function ${s}.t_row(p_id int) returns ${s}.things language sql as 'select * from ${s}.things where id = p_id';
      create function ${s}.t_rows(p_id int) returns setof ${s}.things language sql as 'select * from ${s}.things where id = p_id';
      create function ${s}.t_void(p_id int) returns void language sql as 'insert into ${s}.things (id) values (p_id)';
      create sequence ${s}.counter;
      create function ${s}.t_stable_writes(p_id int) returns bigint language sql stable
        as $$ select nextval('${s}.counter') + p_id $$;
      create function ${s}.t_twice(a int) returns int language sql as 'select a';
      create function ${s}.t_twice(a int, b int default 0) returns int language sql as 'select a + b';
      create function ${s}.t_unique(p_id int) returns void language sql as 'insert into ${s}.things (id) values (p_id)';
      create function ${s}.t_raise() returns int language plpgsql as $$ begin raise exception 'nope'; end $$;
      grant usage on schema ${s} to anon;
      grant execute on function ${s}.t_scalar(int, int) to anon;
      revoke execute on function ${s}.t_types(timestamptz, jsonb, text[]) from public;
      grant execute on function ${s}.t_types(timestamptz, jsonb, text[]) to service_role;
      grant usage on sequence ${s}.counter to service_role, anon;
      grant all on ${s}.things to service_role;`);
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });

  const call = async (fn: string, body: unknown, headers: Record<string, string> = {}) => {
    const key = headers.key ?? emulator.serviceRoleKey;
    const response = await fetch(`${emulator.url}/rest/v1/rpc/${fn}`, {
      method: 'POST',
      headers: {
        apikey: key,
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-profile': database.schema,
        ...headers,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };

  describe('when calling functions', () => {
    it('should return a scalar as a bare JSON value and apply defaults', async () => {
      expect(await call('t_scalar', { a: 2 })).toEqual({ status: 200, body: 3 });
    });

    it('should type arguments by the parameter types (timestamptz, jsonb, text[])', async () => {
      const result = await call('t_types', {
        p_at: '2025-01-01T00:00:00Z',
        p_doc: { x: 'y' },
        p_tags: ['a', 'b'],
      });
      expect(result).toEqual({ status: 200, body: 'timestamp with time zone|y|2' });
    });

    it('should return a set as an array, [] when empty', async () => {
      expect((await call('t_set', { n: 3 })).body).toEqual([1, 2, 3]);
      expect((await call('t_set', { n: 0 })).body).toEqual([]);
    });

    it('should return a composite with no row as an object of nulls, and setof as []', async () => {
      expect((await call('t_row', { p_id: 999 })).body).toEqual({ id: null, at: null, tags: null });
      expect((await call('t_rows', { p_id: 999 })).body).toEqual([]);
    });

    it('should answer 204 for a void function', async () => {
      expect((await call('t_void', { p_id: 1 })).status).toBe(204);
    });

    it('should answer 406 PGRST116 for an object Accept when the count is not 1', async () => {
      const result = await call('t_rows', { p_id: 999 }, { accept: 'application/vnd.pgrst.object+json' });
      expect(result.status).toBe(406);
      expect(result.body.code).toBe('PGRST116');
    });
  });

  describe('when the function cannot be chosen', () => {
    it('should answer 404 PGRST202 for an unknown function or unknown argument', async () => {
      expect(await call('t_missing', {})).toMatchObject({ status: 404, body: { code: 'PGRST202' } });
      expect(await call('t_scalar', { a: 1, zzz: 2 })).toMatchObject({
        status: 404,
        body: { code: 'PGRST202' },
      });
    });

    it('should answer 300 PGRST203 when two overloads fit', async () => {
      expect(await call('t_twice', { a: 1 })).toMatchObject({ status: 300, body: { code: 'PGRST203' } });
    });
  });

  describe('when the database refuses', () => {
    it('should run STABLE functions read-only (25006 → 405)', async () => {
      expect(await call('t_stable_writes', { p_id: 5 })).toMatchObject({
        status: 405,
        body: { code: '25006' },
      });
    });

    it('should map 23505 to 409 and P0001 to 400', async () => {
      await call('t_unique', { p_id: 7 });
      expect(await call('t_unique', { p_id: 7 })).toMatchObject({ status: 409, body: { code: '23505' } });
      expect(await call('t_raise', {})).toMatchObject({
        status: 400,
        body: { code: 'P0001', message: 'nope' },
      });
    });

    it('should take the role from the key: anon without a grant gets 401, service_role 403', async () => {
      expect(await call('t_scalar', { a: 1 }, { key: emulator.anonKey })).toEqual({ status: 200, body: 2 });
      const anon = await call('t_types', { p_at: null, p_doc: {}, p_tags: [] }, { key: emulator.anonKey });
      expect(anon).toMatchObject({ status: 401, body: { code: '42501' } });
      await database.pool.query(`revoke execute on function ${database.schema}.t_set(int) from public`);
      expect(await call('t_set', { n: 1 })).toMatchObject({ status: 403, body: { code: '42501' } });
    });

    it('should refuse a schema it does not expose (PGRST106)', async () => {
      expect(await call('t_scalar', { a: 1 }, { 'content-profile': 'elsewhere' })).toMatchObject({
        status: 406,
        body: { code: 'PGRST106' },
      });
    });
  });

  describe('when the schema changes', () => {
    it("should see a new function only after NOTIFY pgrst, 'reload schema'", async () => {
      await database.pool.query(
        `create function ${database.schema}.t_new() returns int language sql as 'select 42'`,
      );
      expect((await call('t_new', {})).status).toBe(404);
      await database.pool.query("notify pgrst, 'reload schema'");
      let result = await call('t_new', {});
      for (let tries = 0; result.status !== 200 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        result = await call('t_new', {});
      }
      expect(result).toEqual({ status: 200, body: 42 });
    });
  });
});
