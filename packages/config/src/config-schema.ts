import { z } from 'zod';

const text = z.string().trim().min(1);
const positiveInteger = z.number().int().min(1);

/** The job server's own settings: the `server` key of a config file. */
export const serverSettingsSchema = z.strictObject({
  /** `AU_HOST`. @default '127.0.0.1' */
  host: text.optional(),
  /** `AU_PORT`; 0 picks a free port. @default 8080 */
  port: z.number().int().min(0).max(65_535).optional(),
  /** `AU_API_KEYS`: bearer tokens. @default none: no authentication */
  apiKeys: z.array(text).optional(),
  /** `AU_WAIT_SECONDS`: how long `POST /{task}` waits by default. @default 10 */
  waitSeconds: z.number().min(0).max(3600).optional(),
  /** `AU_MAX_WAIT_SECONDS`. @default 60 */
  maxWaitSeconds: z.number().min(0).max(3600).optional(),
  /** `AU_BODY_LIMIT` in bytes. @default 1048576 */
  bodyLimit: z
    .number()
    .int()
    .min(1)
    .max(1024 ** 3)
    .optional(),
  /** `AU_SHUTDOWN_TIMEOUT_MS`. @default 10000 */
  shutdownTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
  /** `AU_LOG_LEVEL`. @default 'info' */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** `AU_SAMPLE_TASKS`. @default true */
  sampleTasks: z.boolean().optional(),
  /** `AU_EXPOSE_STACKS`. @default false */
  exposeStacks: z.boolean().optional(),
  /** `AU_DATA_DIR`, relative to the file. @default './.au-data' */
  dataDir: text.optional(),
  /** `AU_TRACING`: OpenTelemetry spans (needs @opentelemetry/api and an SDK). @default false */
  tracing: z.boolean().optional(),
  /** `AU_REQUEST_TIMEOUT_MS`: time for a client to send a whole request; 0 turns it off. @default 30000 */
  requestTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
  /** `AU_HEADERS_TIMEOUT_MS`: time for a client to send the headers. @default 10000 */
  headersTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  /** `AU_CONNECTION_TIMEOUT_MS`: an idle socket is closed; 0 turns it off. @default the longest wait + 30 s, at least 120000 */
  connectionTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(24 * 3_600_000)
    .optional(),
});

/** The settings a file gives every preset, or one preset under `presets`. */
export const settingsSchema = z.strictObject({
  /** `AU_STORE`: memory, fs:PATH (relative to the file), redis://…, postgres://…, supabase. */
  store: text.optional(),
  /** `AU_BACKEND`: inline, threads, process, bullmq, postgres, supabase, sync-test. */
  backend: text.optional(),
  /** `AU_TASKS`: task modules, paths relative to the file or package names. */
  tasks: z.array(text).optional(),
  /** `AU_TTL_SECONDS`: how long finished records are kept. */
  ttl: positiveInteger.optional(),
  /** `AU_CONCURRENCY`. */
  concurrency: positiveInteger.optional(),
  /** `AU_MAX_QUEUED`: most computations that may wait to start on the backend. */
  maxQueued: positiveInteger.optional(),
  /**
   * `AU_ROUTES`: the backend (an `AU_BACKEND` value) for tasks of each resource hint,
   * e.g. `{ cpu: 'process', io: 'inline' }`; other tasks run on `backend`.
   */
  routes: z.strictObject({ cpu: text.optional(), io: text.optional(), memory: text.optional() }).optional(),
  server: serverSettingsSchema.optional(),
  /** Other `AU_*` variables (a provider's own, e.g. `AU_REDIS_URL`, `AU_QUEUE`), as defaults. */
  env: z.record(z.string().regex(/^AU_[A-Z0-9_]+$/, 'must be an AU_* variable name'), z.string()).optional(),
});

/** A whole config file: settings for every preset, then per-preset settings over them. */
export const configFileSchema = settingsSchema.extend({
  presets: z
    .strictObject({
      development: settingsSchema.optional(),
      production: settingsSchema.optional(),
      test: settingsSchema.optional(),
    })
    .optional(),
});

export type AuSettings = z.input<typeof settingsSchema>;
export type ServerSettingsInput = z.input<typeof serverSettingsSchema>;
/** What an au config file holds (what `defineConfig` takes). */
export type AuConfigFile = z.input<typeof configFileSchema>;
export type ParsedSettings = z.output<typeof settingsSchema>;
export type ParsedConfigFile = z.output<typeof configFileSchema>;

/** The keys each kind of object in a file accepts, for "did you mean …?". */
export const KNOWN_KEYS = {
  root: Object.keys(configFileSchema.shape),
  preset: Object.keys(settingsSchema.shape),
  presets: Object.keys(configFileSchema.shape.presets.unwrap().shape),
  server: Object.keys(serverSettingsSchema.shape),
} as const;
