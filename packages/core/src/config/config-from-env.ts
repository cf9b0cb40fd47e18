import { InProcessBackend } from '../backends/in-process-backend';
import { RoutingBackend } from '../backends/routing-backend';
import { type Clock, systemClock } from '../clock';
import type { ComputationBackend } from '../contracts/backend';
import type { Middleware } from '../contracts/middleware';
import type { ComputationStore } from '../contracts/store';
import { ConfigError } from '../errors/config-error';
import { MemoryStore } from '../stores/memory-store';
import type { ResourceHint, TaskLogger } from '../task';
import { loadTaskModules, TaskRegistry, toModuleSpecifier } from '../task-registry';
import {
  type BackendProvider,
  findBackendProvider,
  findStoreProvider,
  KNOWN_BACKEND_PACKAGES,
  KNOWN_STORE_PACKAGES,
  type StoreProvider,
} from './providers';
import { routesFromEnv } from './routes-from-env';

/** What `configFromEnv` built. */
export interface AuConfig {
  store: ComputationStore;
  backend: ComputationBackend;
  /** `AU_TTL_SECONDS`. */
  ttl: number | undefined;
  /** `AU_CONCURRENCY`. */
  concurrency: number | undefined;
  /** The tasks of `AU_TASKS`. */
  tasks: TaskRegistry;
  /** `AU_TASKS` as `file:` URLs (or package names). */
  taskModules: string[];
  /** The clock the store and backend were given (`ConfigFromEnvOptions.clock`). */
  clock: Clock;
  /** The values used, for a start-up log line. */
  describe: { store: string; backend: string };
  /** Closes the backend, then the store. */
  close(): Promise<void>;
}

export interface ConfigFromEnvOptions {
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Values used when `AU_STORE` / `AU_BACKEND` are unset. @default { store: 'memory', backend: 'inline' } */
  defaults?: { store?: string; backend?: string };
  /**
   * Imports store and backend packages by name. Pass `(name) => import(name)` from your
   * application so that packages are resolved from its `node_modules` (core's own
   * location may not see them, e.g. under pnpm). @default core's own `import()`
   */
  importModule?: (name: string) => Promise<Record<string, unknown>>;
  /** Time for the memory store, the inline backend and backend providers (the `test` preset passes a virtual clock). @default systemClock */
  clock?: Clock;
  /** Run-side middleware for queue workers that the backend runs in this process (work of other processes). @default none */
  middleware?: readonly Middleware[];
  /**
   * Where the backends built here log: a queue worker's failed claims and lost leases, a
   * job given back during an outage. @default silent
   */
  logger?: TaskLogger;
}

/**
 * Builds the store and backend that `AU_STORE`, `AU_BACKEND`, `AU_TTL_SECONDS`,
 * `AU_CONCURRENCY`, `AU_MAX_QUEUED`, `AU_ROUTES` and `AU_TASKS` describe. Store and backend packages are found
 * through providers (`registerStoreProvider`) or imported by their known package names,
 * so core depends on none of them. A bad value fails with a `ConfigError` that says
 * what would be accepted.
 */
export async function configFromEnv(options: ConfigFromEnvOptions = {}): Promise<AuConfig> {
  const env = options.env ?? process.env;
  const storeValue = nonEmpty(env.AU_STORE) ?? options.defaults?.store ?? 'memory';
  const backendValue = nonEmpty(env.AU_BACKEND) ?? options.defaults?.backend ?? 'inline';
  const ttl = parsePositiveInteger(env, 'AU_TTL_SECONDS');
  const concurrency = parsePositiveInteger(env, 'AU_CONCURRENCY');
  const maxQueued = parsePositiveInteger(env, 'AU_MAX_QUEUED');
  const routes = routesFromEnv(env.AU_ROUTES);
  const taskModules = (nonEmpty(env.AU_TASKS) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map(toModuleSpecifier);
  let tasks: TaskRegistry;
  try {
    tasks =
      taskModules.length > 0
        ? await loadTaskModules(taskModules, 'the AU_TASKS modules')
        : new TaskRegistry();
  } catch (error) {
    throw new ConfigError({ setting: 'AU_TASKS', message: (error as Error).message, cause: error });
  }

  const importModule =
    options.importModule ?? ((name: string) => import(name) as Promise<Record<string, unknown>>);
  const clock = options.clock ?? systemClock;
  const store = await createStore(storeValue, env, importModule, clock);
  let backend: ComputationBackend;
  const opened: ComputationBackend[] = [];
  try {
    // With AU_ROUTES, one backend per distinct value, AU_BACKEND's the default (routing-backend.ts).
    const byValue = new Map<string, ComputationBackend>();
    const open = async (value: string): Promise<ComputationBackend> => {
      let made = byValue.get(value);
      if (made === undefined) {
        made = await createBackend(
          value,
          {
            env,
            store,
            concurrency,
            maxQueued,
            taskModules,
            tasks,
            clock,
            ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
            ...(options.logger === undefined ? {} : { logger: options.logger }),
          },
          importModule,
        );
        byValue.set(value, made);
        opened.push(made);
      }
      return made;
    };
    const main = await open(backendValue);
    if (routes === undefined) backend = main;
    else {
      const routed: Partial<Record<ResourceHint, ComputationBackend>> = {};
      for (const [hint, value] of Object.entries(routes)) routed[hint as ResourceHint] = await open(value);
      backend = new RoutingBackend({ routes: routed, default: main });
    }
  } catch (error) {
    await Promise.all(opened.map((made) => made.close({ timeout: 0 }).catch(() => undefined)));
    await store.close().catch(() => undefined);
    throw error;
  }
  return {
    store,
    backend,
    ttl,
    concurrency,
    tasks,
    taskModules,
    clock,
    describe: {
      store: redact(storeValue),
      backend:
        routes === undefined
          ? backendValue
          : `${backendValue} (routes: ${Object.entries(routes)
              .map(([hint, value]) => `${hint}=${value}`)
              .join(', ')})`,
    },
    async close() {
      await backend.close();
      await store.close();
    },
  };
}

type Importer = (name: string) => Promise<Record<string, unknown>>;

async function createStore(
  value: string,
  env: ConfigFromEnvOptions['env'] & object,
  importModule: Importer,
  clock: Clock,
): Promise<ComputationStore> {
  if (value === 'memory') return new MemoryStore(clock === systemClock ? {} : { clock });
  const provider =
    findStoreProvider(value) ??
    (await importProvider<StoreProvider>(
      importModule,
      'AU_STORE',
      value,
      storePackage(value),
      'storeProvider',
    ));
  if (!provider.matches(value)) {
    throw new ConfigError({
      setting: 'AU_STORE',
      message: `"${redact(value)}" is not a value its package accepts`,
    });
  }
  try {
    return await provider.create({ value, env });
  } catch (error) {
    throw new ConfigError({
      setting: 'AU_STORE',
      message: `cannot open "${redact(value)}": ${(error as Error).message}`,
      cause: error,
    });
  }
}

async function createBackend(
  value: string,
  context: Omit<Parameters<BackendProvider['create']>[0], 'value'>,
  importModule: Importer,
): Promise<ComputationBackend> {
  if (value === 'inline') {
    return new InProcessBackend({
      ...(context.concurrency === undefined ? {} : { concurrency: context.concurrency }),
      ...(context.maxQueued === undefined ? {} : { maxQueued: context.maxQueued }),
      ...(context.clock === undefined || context.clock === systemClock ? {} : { clock: context.clock }),
    });
  }
  const known = KNOWN_BACKEND_PACKAGES.find((item) => item.value === value);
  const provider =
    findBackendProvider(value) ??
    (known === undefined
      ? undefined
      : await importProvider<BackendProvider>(
          importModule,
          'AU_BACKEND',
          value,
          known.package,
          'backendProvider',
        ));
  if (provider === undefined) {
    const accepted = ['inline', ...KNOWN_BACKEND_PACKAGES.map((item) => item.value)].join(', ');
    throw new ConfigError({
      setting: 'AU_BACKEND',
      message: `unknown backend "${value}": use one of ${accepted}`,
    });
  }
  try {
    return await provider.create({ ...context, value });
  } catch (error) {
    if (ConfigError.isInstance(error)) throw error;
    throw new ConfigError({
      setting: 'AU_BACKEND',
      message: `cannot start "${value}": ${(error as Error).message}`,
      cause: error,
    });
  }
}

function storePackage(value: string): string {
  const known = KNOWN_STORE_PACKAGES.find((item) => item.test(value));
  if (known === undefined) {
    const forms = ['memory', ...KNOWN_STORE_PACKAGES.map((item) => item.form)].join(', ');
    throw new ConfigError({
      setting: 'AU_STORE',
      message: `unknown store "${redact(value)}": use one of ${forms}`,
    });
  }
  return known.package;
}

async function importProvider<T>(
  importModule: Importer,
  setting: string,
  value: string,
  packageName: string,
  exportName: string,
): Promise<T> {
  let moduleExports: Record<string, unknown>;
  try {
    moduleExports = await importModule(packageName);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const installName = packageRoot(packageName);
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(installName)) {
      throw new ConfigError({
        setting,
        message: `"${redact(value)}" needs the package ${installName}, which is not installed: add it (npm install ${installName})`,
        cause: error,
      });
    }
    throw new ConfigError({
      setting,
      message: `cannot load ${packageName}: ${(error as Error).message}`,
      cause: error,
    });
  }
  const provider = moduleExports[exportName] as T | undefined;
  if (provider === undefined) {
    throw new ConfigError({
      setting,
      message: `${packageName} exports no ${exportName}: is it an au package of this version?`,
    });
  }
  return provider;
}

/** `@scope/name` of `@scope/name/subpath`: what to install. */
function packageRoot(specifier: string): string {
  const parts = specifier.split('/');
  return parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

function parsePositiveInteger(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError({ setting: name, message: `must be a whole number ≥ 1, got "${raw}"` });
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Hides a password in a connection URL. */
export function redact(value: string): string {
  return value.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
