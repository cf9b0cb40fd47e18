import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { type CatalogFunction, findCandidates, loadFunctionCatalog } from './function-catalog';
import { sqlStateToHttp } from './sqlstate-to-http';

export interface PostgrestEmulatorOptions {
  /** The PostgreSQL the functions live in. The connecting user must be able to `SET ROLE` to the API roles. */
  databaseUrl: string;
  /** The exposed schemas; the first is the default (no Content-Profile header). @default 'public' */
  schema?: string | readonly string[];
  /**
   * Verify `Authorization: Bearer <jwt>` (HS256) with this secret and take the role from
   * its `role` claim, as Supabase does. Without it, the two `keys` below are compared as-is.
   */
  jwtSecret?: string;
  /** API keys. @default two random strings (read them back from the result) */
  keys?: { serviceRole?: string; anon?: string };
  /** Port to listen on (127.0.0.1). @default 0 (any free port) */
  port?: number;
}

export interface PostgrestEmulator {
  /** Base URL, as SUPABASE_URL: `createClient(url, serviceRoleKey)`; the API is under `/rest/v1`. */
  url: string;
  /** A key that maps to `service_role`. */
  serviceRoleKey: string;
  /** A key that maps to `anon`. */
  anonKey: string;
  /** Reloads the function cache (what `NOTIFY pgrst, 'reload schema'` does). */
  reloadSchema(): Promise<void>;
  close(): Promise<void>;
}

interface ApiError {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

/**
 * A PostgREST-compatible RPC endpoint over a real PostgreSQL, for tests: `POST
 * /rest/v1/rpc/{fn}` with named arguments typed by PostgreSQL (`json_to_record` with
 * the function's parameter types), PostgREST's overload rules (PGRST202 / PGRST203),
 * result shapes (scalar, set, composite, void → 204, object Accept → PGRST116), one
 * transaction per request (READ ONLY for STABLE / IMMUTABLE functions), the role from
 * the key (`SET LOCAL ROLE service_role` or `anon`), PostgREST's SQLSTATE → HTTP
 * table, `Content-Profile` schemas, and a schema cache reloaded on `NOTIFY pgrst`.
 */
export async function startPostgrestEmulator(options: PostgrestEmulatorOptions): Promise<PostgrestEmulator> {
  const schemas = typeof options.schema === 'string' ? [options.schema] : [...(options.schema ?? ['public'])];
  const serviceRoleKey = options.keys?.serviceRole ?? `service-role-${randomBytes(12).toString('hex')}`;
  const anonKey = options.keys?.anon ?? `anon-${randomBytes(12).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
  pool.on('error', () => undefined);
  let catalog = await loadFunctionCatalog(pool, schemas);
  const reloadSchema = async () => {
    catalog = await loadFunctionCatalog(pool, schemas);
  };

  // PostgREST reloads its schema cache on NOTIFY pgrst, 'reload schema'.
  const listener = new pg.Client({ connectionString: options.databaseUrl });
  listener.on('error', () => undefined);
  await listener.connect();
  listener.on('notification', (message) => {
    if (message.channel === 'pgrst' && (message.payload === 'reload schema' || message.payload === '')) {
      void reloadSchema().catch(() => undefined);
    }
  });
  await listener.query('listen pgrst');

  const roleOf = (request: IncomingMessage): string | undefined => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ')
      ? header.slice(7)
      : (request.headers.apikey as string | undefined);
    if (token === undefined) return undefined;
    if (options.jwtSecret !== undefined) return verifyJwtRole(token, options.jwtSecret) ?? 'anon';
    return safeEqual(token, serviceRoleKey) ? 'service_role' : 'anon';
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) =>
      send(response, 500, { code: 'PGRST000', message: String(error), details: null, hint: null }),
    );
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/rest\/v1\/rpc\/([^/]+)$/.exec(url.pathname);
    if (match === null) {
      send(response, 404, {
        code: 'PGRST125',
        message: `Invalid path specified in request URL`,
        details: null,
        hint: null,
      });
      return;
    }
    if (request.method !== 'POST') {
      send(response, 405, {
        code: 'PGRST117',
        message: `Unsupported HTTP method: ${request.method}`,
        details: null,
        hint: null,
      });
      return;
    }
    if (request.headers.apikey === undefined && request.headers.authorization === undefined) {
      send(response, 401, { code: '401', message: 'No API key found in request', details: null, hint: null });
      return;
    }
    const role = roleOf(request) ?? 'anon';
    const schema = (request.headers['content-profile'] as string | undefined) ?? schemas[0]!;
    if (!schemas.includes(schema)) {
      send(response, 406, {
        code: 'PGRST106',
        message: 'Invalid schema: ' + schema,
        details: null,
        hint: `Only the following schemas are exposed: ${schemas.join(', ')}`,
      });
      return;
    }
    const fnName = decodeURIComponent(match[1]!);
    const raw = await readBody(request);
    let body: unknown;
    try {
      body = raw.length === 0 ? {} : JSON.parse(raw);
    } catch (error) {
      send(response, 400, {
        code: 'PGRST102',
        message: 'Empty or invalid json',
        details: String(error),
        hint: null,
      });
      return;
    }
    const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    const candidates = findCandidates(catalog.get(`${schema}.${fnName}`) ?? [], keys);
    if (candidates.length === 0) {
      const shown = [...keys].sort().join(', ');
      send(response, 404, {
        code: 'PGRST202',
        message: `Could not find the function ${schema}.${fnName}(${shown}) in the schema cache`,
        details: `Searched for the function ${schema}.${fnName} with parameters ${shown || 'none'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
        hint: null,
      });
      return;
    }
    if (candidates.length > 1) {
      send(response, 300, {
        code: 'PGRST203',
        message: `Could not choose the best candidate function between: ${candidates
          .map(
            (fn) =>
              `${schema}.${fn.name}(${fn.params.map((param) => `${param.name} => ${param.type}`).join(', ')})`,
          )
          .join(', ')}`,
        details: null,
        hint: 'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
      });
      return;
    }
    const fn = candidates[0]!;
    const wantsObject = (request.headers.accept ?? '').includes('application/vnd.pgrst.object+json');
    const client = await pool.connect();
    let released = false;
    try {
      const apiRole = role === 'service_role' || role === 'authenticated' ? role : 'anon';
      const claims = JSON.stringify({ role: apiRole }).replace(/'/g, "''");
      // One round trip: the transaction (READ ONLY unless VOLATILE), the role, the claims.
      await client.query(
        `${fn.volatility === 'v' ? 'begin' : 'begin read only'}; set local role ${apiRole}; ` +
          `select set_config('request.jwt.claims', '${claims}', true)`,
      );
      const { text, values } = callSql(fn, body, keys);
      const result = await client.query<{ body: string | null; n: number }>(text, values);
      await client.query('commit');
      client.release();
      released = true;
      if (fn.returnsVoid) {
        response.writeHead(204).end();
        return;
      }
      const row = result.rows[0] ?? { body: '[]', n: 0 };
      const count = Number(row.n);
      if (wantsObject && count !== 1) {
        send(response, 406, {
          code: 'PGRST116',
          message: 'Cannot coerce the result to a single JSON object',
          details: `The result contains ${count} rows`,
          hint: null,
        });
        return;
      }
      let payload = row.body ?? '[]';
      if (!fn.returnsSet || wantsObject) {
        const items = JSON.parse(payload) as unknown[];
        payload = JSON.stringify(items[0] ?? null);
      }
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(payload);
    } catch (error) {
      if (!released) {
        await client.query('rollback').catch(() => undefined);
        client.release();
      }
      const database = error as { code?: string; message?: string; detail?: string; hint?: string };
      const code = database.code ?? 'PGRST000';
      send(response, sqlStateToHttp(code, role === 'anon'), {
        code,
        message: database.message ?? String(error),
        details: database.detail ?? null,
        hint: database.hint ?? null,
      });
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serviceRoleKey,
    anonKey,
    reloadSchema,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await listener.end().catch(() => undefined);
      await pool.end();
    },
  };
}

// ---- private helpers --------------------------------------------------------------

/** The SQL of one call: arguments typed by `json_to_record` with the function's own parameter types. */
function callSql(
  fn: CatalogFunction,
  body: unknown,
  keys: readonly string[],
): { text: string; values: unknown[] } {
  const target = `${quote(fn.schema)}.${quote(fn.name)}`;
  const unnamedJson = fn.params.length === 1 && fn.params[0]!.name === '';
  let from: string;
  let call: string;
  const values: unknown[] = [];
  if (unnamedJson) {
    values.push(JSON.stringify(body));
    call = `${target}($1::${fn.params[0]!.type})`;
    from = '';
  } else if (keys.length === 0) {
    call = `${target}()`;
    from = '';
  } else {
    const given = fn.params.filter((param) => keys.includes(param.name));
    values.push(JSON.stringify(body));
    from = `pg_catalog.json_to_record($1::json) as _(${given.map((param) => `${quote(param.name)} ${param.type}`).join(', ')}), `;
    call = `${target}(${given.map((param) => `${quote(param.name)} := _.${quote(param.name)}`).join(', ')})`;
  }
  if (fn.returnsVoid) return { text: `select 1 from ${from}lateral ${call} as _f`, values };
  const item = fn.returnsComposite ? '_f' : '_f.v';
  const alias = fn.returnsComposite ? '_f' : '_f(v)';
  return {
    text: `select coalesce(pg_catalog.json_agg(${item}), '[]'::json)::text as body, count(*)::int as n from ${from}lateral ${call} as ${alias}`,
    values,
  };
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

function send(response: ServerResponse, status: number, error: ApiError): void {
  if (response.headersSent) return;
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(error));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The `role` claim of an HS256 JWT signed with `secret`, or undefined when it does not verify. */
function verifyJwtRole(token: string, secret: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest('base64url');
  if (!safeEqual(expected, parts[2]!)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as {
      role?: unknown;
      exp?: unknown;
    };
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return undefined;
    return typeof claims.role === 'string' ? claims.role : undefined;
  } catch {
    return undefined;
  }
}

/** An HS256 JWT with `{ role }` for the emulator's `jwtSecret` mode (what Supabase's keys are). */
export function signTestJwt(role: string, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ role, iss: 'au-test' })).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
