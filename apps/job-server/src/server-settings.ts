import { UsageError } from './errors/usage-error';

type Env = Readonly<Record<string, string | undefined>>;

/** The job server's own settings (store, backend and tasks come from `configFromEnv`). */
export interface ServerSettings {
  /** `AU_HOST`. @default '127.0.0.1' */
  host: string;
  /** `AU_PORT`; 0 picks a free port. @default 8080 */
  port: number;
  /** `AU_API_KEYS`, comma-separated. @default none: no authentication */
  apiKeys: string[];
  /** `AU_WAIT_SECONDS`: how long `POST /{task}` waits by default. @default 10 */
  defaultWait: number;
  /** `AU_MAX_WAIT_SECONDS`. @default 60 */
  maxWait: number;
  /** `AU_BODY_LIMIT` in bytes. @default 1048576 */
  bodyLimit: number;
  /** `AU_SHUTDOWN_TIMEOUT_MS`: how long running work may finish on shutdown. @default 10000 */
  shutdownTimeout: number;
  /** `AU_LOG_LEVEL`. @default 'info' */
  logLevel: string;
  /** `AU_SAMPLE_TASKS=false` leaves the sample tasks out. @default true */
  sampleTasks: boolean;
  /** `AU_EXPOSE_STACKS=true` shows the stacks of failed tasks in answers. @default false */
  exposeStacks: boolean;
  /** `AU_DATA_DIR`: where the default fs store keeps records. @default './.au-data' */
  dataDir: string;
  /**
   * `AU_TRACING=true` adds `TracingMiddleware` (OpenTelemetry spans, needs
   * `@opentelemetry/api` and an SDK set up in the process). @default false
   */
  tracing: boolean;
  /**
   * `AU_REQUEST_TIMEOUT_MS`: the longest a client may take to send a whole request,
   * headers and body (a slow or stuck upload is answered 408 and cut off). 0 turns it off.
   * @default 30000
   */
  requestTimeout: number;
  /** `AU_HEADERS_TIMEOUT_MS`: the longest a client may take to send the headers; at most the request timeout. @default 10000 */
  headersTimeout: number;
  /**
   * `AU_CONNECTION_TIMEOUT_MS`: a socket with no traffic either way for this long is
   * closed. It must outlast the longest wait (`AU_MAX_WAIT_SECONDS`), during which an
   * answer is silent; event streams send a heartbeat every 15 s. 0 turns it off.
   * @default the longest wait + 30 s, at least 120000
   */
  connectionTimeout: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the server settings from the environment; a bad value is a `UsageError`. */
export function readServerSettings(env: Env): ServerSettings {
  const logLevel = value(env, 'AU_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`AU_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const maxWait = number(env, 'AU_MAX_WAIT_SECONDS', 60, 0, 3600, false);
  return {
    host: value(env, 'AU_HOST') ?? '127.0.0.1',
    port: number(env, 'AU_PORT', 8080, 0, 65_535, true),
    apiKeys: (value(env, 'AU_API_KEYS') ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key.length > 0),
    defaultWait: number(env, 'AU_WAIT_SECONDS', 10, 0, 3600, false),
    maxWait,
    bodyLimit: number(env, 'AU_BODY_LIMIT', 1_048_576, 1, 1024 ** 3, true),
    shutdownTimeout: number(env, 'AU_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 3_600_000, true),
    logLevel,
    sampleTasks: flag(env, 'AU_SAMPLE_TASKS', true),
    exposeStacks: flag(env, 'AU_EXPOSE_STACKS', false),
    dataDir: value(env, 'AU_DATA_DIR') ?? './.au-data',
    tracing: flag(env, 'AU_TRACING', false),
    ...readTimeouts(env, maxWait),
  };
}

/** Request, headers and idle-connection timeouts, checked against each other and the longest wait. */
function readTimeouts(
  env: Env,
  maxWait: number,
): Pick<ServerSettings, 'requestTimeout' | 'headersTimeout' | 'connectionTimeout'> {
  const requestTimeout = number(env, 'AU_REQUEST_TIMEOUT_MS', 30_000, 0, 3_600_000, true);
  const headersTimeout = number(
    env,
    'AU_HEADERS_TIMEOUT_MS',
    requestTimeout === 0 ? 10_000 : Math.min(10_000, requestTimeout),
    1,
    3_600_000,
    true,
  );
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    throw new UsageError(
      `AU_HEADERS_TIMEOUT_MS (${headersTimeout}) must not be longer than AU_REQUEST_TIMEOUT_MS (${requestTimeout})`,
    );
  }
  const longestWait = maxWait * 1000;
  const connectionTimeout = number(
    env,
    'AU_CONNECTION_TIMEOUT_MS',
    Math.max(120_000, longestWait + 30_000),
    0,
    24 * 3_600_000,
    true,
  );
  if (connectionTimeout > 0 && connectionTimeout <= longestWait) {
    throw new UsageError(
      `AU_CONNECTION_TIMEOUT_MS (${connectionTimeout}) must be longer than the longest wait, AU_MAX_WAIT_SECONDS (${maxWait} s), or 0 to turn it off: a waiting answer is silent`,
    );
  }
  return { requestTimeout, headersTimeout, connectionTimeout };
}

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function number(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(
      `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${raw}"`,
    );
  }
  return parsed;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new UsageError(`${name} must be true or false, got "${raw}"`);
}
