// `pnpm bench http`: requests per second of `POST /factorial?async=true` on the job
// server's embedded default (FileSystemStore + ThreadsBackend, through @au/http) against
// a bare Fastify route that validates the same body with the same zod schema and writes
// the same pending record to the same store. One run, both rates and the ratio (goal ≥ 0.7).
// Two references tell where au's cost goes: the job server with a backend that runs
// nothing, and the bare route also running what it accepts by hand (Piscina, as many
// threads as the ThreadsBackend, and the record's two conditional updates).
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ComputationBackend, type ComputationStore, generateKey } from '@au/core';
import { Piscina } from 'piscina';
import { type BuildServerOptions, buildServer } from '../apps/job-server/src/build-server';
import { loadConfig } from '../apps/job-server/src/load-config';
import { factorial } from '../apps/job-server/src/sample-tasks';
import { readServerSettings } from '../apps/job-server/src/server-settings';

type FastifyInstance = Awaited<ReturnType<typeof buildServer>>;
interface AutocannonOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
}

// fastify and pino are the job server's dependencies, not the repository root's.
const fromApp = createRequire(new URL('../apps/job-server/package.json', import.meta.url));
const Fastify = ((await import(fromApp.resolve('fastify'))) as { default: unknown }).default as (options: {
  logger: boolean;
}) => FastifyInstance;
const { pino } = (await import(fromApp.resolve('pino'))) as {
  pino: (options: { level: string }) => BuildServerOptions['logger'];
};
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: AutocannonOptions,
) => Promise<unknown>;

// Closing the threads backend with a backlog may reject promises nobody awaits; report, do not crash.
process.on('unhandledRejection', (error) =>
  console.error(`unhandled rejection at close: ${(error as Error).message}`),
);

const DURATION = 5;
const ROUNDS = 3;
const CONNECTIONS = 10;
const BODY = JSON.stringify({ n: 20 });

interface Result {
  requests: { average: number };
  non2xx: number;
  errors: number;
  latency: { p50: number; p99: number };
}

async function load(url: string, duration: number): Promise<Result> {
  return (await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections: CONNECTIONS,
    duration,
  })) as Result;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

const dataDir = await mkdtemp(join(tmpdir(), 'au-http-bench-'));
const env = { AU_STORE: `fs:${dataDir}`, AU_BACKEND: 'threads', AU_LOG_LEVEL: 'warn' };
const settings = readServerSettings(env);
const config = await loadConfig(env, settings);
const logger = pino({ level: 'warn' });

// The bare route: same validation, same record, same store; nothing runs it unless
// `run` is given (the hand-written reference).
function bareServer(store: ComputationStore, run?: (key: string, n: number) => void): FastifyInstance {
  const app = Fastify({ logger: false });
  app.post('/factorial', async (request, reply) => {
    const parsed = factorial.input!.safeParse(request.body);
    if (!parsed.success)
      return reply.code(400).send({ error: { code: 'INVALID_INPUT', issues: parsed.error.issues } });
    const now = Date.now();
    const key = generateKey(now);
    await store.create({
      key,
      task: 'factorial',
      status: 'pending',
      args: request.body,
      attempt: 0,
      maxAttempts: 1,
      priority: 0,
      createdAt: now,
    });
    run?.(key, parsed.data.n);
    return reply.code(202).header('location', `/tasks/${key}`).send({ taskId: key, status: 'pending' });
  });
  return app;
}
const bare = bareServer(config.store);

// The hand-written reference runs each accepted computation as the job server does, with
// no framework: running, then n! in a Piscina thread, then completed with the value.
const piscina = new Piscina<{ n: number }, string>({
  filename: fileURLToPath(new URL('./factorial-handler.ts', import.meta.url)),
  minThreads: availableParallelism(),
  maxThreads: availableParallelism(),
  // Node 20 runs no ESM loader hooks in worker threads: TypeScript needs tsx's CommonJS hook there.
  execArgv: ['--require', createRequire(import.meta.url).resolve('tsx/cjs')],
});
let handWrittenBacklog = 0;
async function runByHand(store: ComputationStore, key: string, n: number): Promise<void> {
  const running = await store.update(
    key,
    { status: 'running', attempt: 1, startedAt: Date.now() },
    { ifStatus: ['pending'] },
  );
  if (running === undefined) return;
  const value = await piscina.run({ n });
  await store.update(
    key,
    { status: 'completed', value: JSON.stringify(value), finishedAt: Date.now() },
    { ifStatus: ['running'] },
  );
}
const handWritten = bareServer(config.store, (key, n) => {
  handWrittenBacklog += 1;
  runByHand(config.store, key, n)
    .catch((error: Error) => console.error(`hand-written run: ${error.message}`))
    .finally(() => {
      handWrittenBacklog -= 1;
    });
});
const au = await buildServer({
  store: config.store,
  backend: config.backend,
  tasks: config.tasks,
  settings,
  logger,
});

// Reference: the same job server with a backend that accepts work and runs none of it,
// to tell the HTTP layer's cost from the cost of running the computations it accepts.
const acceptOnly: ComputationBackend = {
  name: 'accept-only',
  capabilities: { inlineFunctions: true, durable: false, priority: false, preemptiveCancel: false },
  launch: async () => undefined,
  cancel: async () => false,
  close: async () => undefined,
};
const auAcceptOnly = await buildServer({
  store: config.store,
  backend: acceptOnly,
  tasks: config.tasks,
  settings,
  logger,
});

const bareUrl = `${await listen(bare)}/factorial`;
const handWrittenUrl = `${await listen(handWritten)}/factorial`;
const acceptOnlyUrl = `${await listen(auAcceptOnly)}/factorial?async=true`;
const auUrl = `${await listen(au)}/factorial?async=true`;
console.log(
  `${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION} s per side, body ${BODY}, store fs, backend threads`,
);
await load(bareUrl, 2);
await load(auUrl, 2);
const rates = {
  bare: [] as number[],
  au: [] as number[],
  acceptOnly: [] as number[],
  handWritten: [] as number[],
};
const line = (name: string, result: Result) =>
  `  ${name.padEnd(28)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   non-2xx ${result.non2xx}   errors ${result.errors}`;
// The work au launched runs on in the threads after its round: let it finish before the
// bare round, so that neither side pays for the other's backlog.
const threads = config.backend as unknown as { runningCount: number; queuedCount: number };
async function drain(who: string, backlog: () => number, limit = 120_000): Promise<void> {
  const started = Date.now();
  while (backlog() > 0) {
    if (Date.now() - started > limit) {
      console.log(`  (${who}: backlog of ${backlog()} not drained within ${limit / 1000} s)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`  (${who}'s backlog ran in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
const auBacklog = () => threads.runningCount + threads.queuedCount;
await drain('au', auBacklog);
for (let round = 1; round <= ROUNDS; round++) {
  const bareResult = await load(bareUrl, DURATION);
  const auResult = await load(auUrl, DURATION);
  await drain('au', auBacklog);
  const acceptOnlyResult = await load(acceptOnlyUrl, DURATION);
  const handWrittenResult = await load(handWrittenUrl, DURATION);
  await drain('hand-written', () => handWrittenBacklog);
  console.log(`round ${round}`);
  console.log(line('bare fastify + zod + store', bareResult));
  console.log(line('@au/http (job server)', auResult));
  console.log(line('@au/http, nothing run', acceptOnlyResult));
  console.log(line('bare + running it by hand', handWrittenResult));
  rates.bare.push(bareResult.requests.average);
  rates.au.push(auResult.requests.average);
  rates.acceptOnly.push(acceptOnlyResult.requests.average);
  rates.handWritten.push(handWrittenResult.requests.average);
}
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
console.log(`bare fastify + zod + store: ${mean(rates.bare).toFixed(0)} req/s (mean)`);
console.log(`@au/http (job server):      ${mean(rates.au).toFixed(0)} req/s (mean)`);
console.log(`ratio au / bare: ${(mean(rates.au) / mean(rates.bare)).toFixed(2)} (goal ≥ 0.7)`);
console.log(
  `reference: @au/http with a backend that runs nothing: ${mean(rates.acceptOnly).toFixed(0)} req/s (ratio ${(mean(rates.acceptOnly) / mean(rates.bare)).toFixed(2)}): the rest of the gap is running the accepted computations, which the bare route never does`,
);
console.log(
  `reference: the bare route also running what it accepts by hand (Piscina + the record's running and completed writes): ${mean(rates.handWritten).toFixed(0)} req/s (ratio ${(mean(rates.handWritten) / mean(rates.bare)).toFixed(2)}; au / this ${(mean(rates.au) / mean(rates.handWritten)).toFixed(2)})`,
);
// Let the last in-flight requests end before closing.
await new Promise((resolve) => setTimeout(resolve, 1000));

await au.close();
await auAcceptOnly.close();
await bare.close();
await handWritten.close();
await piscina.destroy();
await config.backend
  .close({ timeout: 5000 })
  .catch((error: Error) => console.error(`backend close: ${error.message}`));
await config.store.close();
await rm(dataDir, { recursive: true, force: true });
