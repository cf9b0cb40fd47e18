import type pg from 'pg';

/** One SQL function as PostgREST's schema cache sees it. */
export interface CatalogFunction {
  schema: string;
  name: string;
  /** IN / INOUT / VARIADIC parameters, in order. */
  params: { name: string; type: string; hasDefault: boolean }[];
  /** `i` immutable, `s` stable, `v` volatile. */
  volatility: 'i' | 's' | 'v';
  returnsSet: boolean;
  /** The return type is a composite (a table row or `returns table`). */
  returnsComposite: boolean;
  returnsVoid: boolean;
}

/** Reads every function of `schemas` (what PostgREST caches at start and on `NOTIFY pgrst`). */
export async function loadFunctionCatalog(
  client: Pick<pg.Pool, 'query'>,
  schemas: readonly string[],
): Promise<Map<string, CatalogFunction[]>> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    arg_names: string[] | null;
    arg_modes: string[] | null;
    arg_types: string[];
    all_arg_types: string[] | null;
    defaults: number;
    volatility: 'i' | 's' | 'v';
    returns_set: boolean;
    return_typtype: string;
    return_type: string;
    return_is_record: boolean;
  }>(
    `select n.nspname as schema, p.proname as name, p.proargnames as arg_names, p.proargmodes::text[] as arg_modes,
            array(select pg_catalog.format_type(t, null) from unnest(p.proargtypes::oid[]) as t) as arg_types,
            p.pronargdefaults as defaults, p.provolatile as volatility, p.proretset as returns_set,
            rt.typtype as return_typtype, pg_catalog.format_type(p.prorettype, null) as return_type,
            (p.prorettype = 'record'::regtype) as return_is_record
       from pg_catalog.pg_proc p
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       join pg_catalog.pg_type rt on rt.oid = p.prorettype
      where n.nspname = any($1) and p.prokind = 'f'`,
    [schemas],
  );
  const catalog = new Map<string, CatalogFunction[]>();
  for (const row of rows) {
    // proargnames / proargmodes cover every argument (OUT ones too); proargtypes only the input ones.
    const modes = row.arg_modes ?? row.arg_types.map(() => 'i');
    const names = row.arg_names ?? [];
    const inputNames = names.filter((_, index) => ['i', 'b', 'v'].includes(modes[index] ?? 'i'));
    const firstDefault = row.arg_types.length - row.defaults;
    const params = row.arg_types.map((type, index) => ({
      name: inputNames[index] ?? '',
      type,
      hasDefault: index >= firstDefault,
    }));
    const fn: CatalogFunction = {
      schema: row.schema,
      name: row.name,
      params,
      volatility: row.volatility,
      returnsSet: row.returns_set,
      returnsComposite: row.return_typtype === 'c' || row.return_is_record,
      returnsVoid: row.return_type === 'void',
    };
    const key = `${row.schema}.${row.name}`;
    const list = catalog.get(key) ?? [];
    list.push(fn);
    catalog.set(key, list);
  }
  return catalog;
}

/**
 * PostgREST's overload choice: every required parameter given, every body key a
 * parameter; a function with one unnamed json/jsonb parameter takes the whole body.
 */
export function findCandidates(
  functions: readonly CatalogFunction[],
  keys: readonly string[],
): CatalogFunction[] {
  return functions.filter((fn) => {
    if (fn.params.length === 1 && fn.params[0]!.name === '' && /^jsonb?$/.test(fn.params[0]!.type))
      return true;
    const names = new Set(fn.params.map((param) => param.name));
    if (!keys.every((key) => names.has(key))) return false;
    return fn.params.every((param) => param.hasDefault || keys.includes(param.name));
  });
}
