import { connect } from 'node:net';

/** A service integration tests may need. */
export type ServiceKind = 'redis' | 'postgres';

const DEFAULT_URLS: Record<ServiceKind, string> = {
  redis: 'redis://127.0.0.1:6379',
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
};
const DEFAULT_PORTS: Record<ServiceKind, number> = { redis: 6379, postgres: 5432 };

/** The Redis of integration tests: `AU_REDIS_URL`, else `redis://127.0.0.1:6379`. */
export function redisUrl(): string {
  return process.env.AU_REDIS_URL || DEFAULT_URLS.redis;
}

/** The PostgreSQL of integration tests: `AU_PG_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`. */
export function postgresUrl(): string {
  return process.env.AU_PG_URL || DEFAULT_URLS.postgres;
}

/**
 * Whether the service answers at `url` (a TCP connect within `timeout` ms). When it
 * does not: under `CI=true` this throws (integration suites must fail in CI); elsewhere
 * it warns loudly and resolves `false`, so the caller can skip:
 * `const redisUp = await requireService('redis'); describe.skipIf(!redisUp)(…)`.
 */
export async function requireService(
  kind: ServiceKind,
  url: string = kind === 'redis' ? redisUrl() : postgresUrl(),
  { timeout = 1500 }: { timeout?: number } = {},
): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const reachable = await canConnect(host, port === '' ? DEFAULT_PORTS[kind] : Number(port), timeout);
  if (reachable) return true;
  const shown = url.replace(/\/\/([^@/]*)@/, '//***@');
  const message = `[au] [testing] ${kind} is not reachable at ${shown}: start it or set ${kind === 'redis' ? 'AU_REDIS_URL' : 'AU_PG_URL'}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: integration tests must not skip)`);
  console.warn(`\n⚠️  ${message}. SKIPPING its integration tests.\n`);
  return false;
}

// ---- private helpers --------------------------------------------------------------

function canConnect(host: string, port: number, timeout: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeout, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
