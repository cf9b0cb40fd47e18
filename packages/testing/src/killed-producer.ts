import { fork } from 'node:child_process';
import {
  asyncCompute,
  type ComputationBackend,
  type ComputationStore,
  type CountQuery,
  countComputations,
} from '@au/core';
import { conformanceTasks } from './conformance-tasks';

/** How `killProducerMidLaunch` runs the producer. */
export interface KilledProducerOptions {
  /** Milliseconds it launches for, after its first launch landed, before the SIGKILL. */
  launchFor: number;
  /** Its command-line arguments. */
  args?: readonly string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Node's flags for it, e.g. a TypeScript loader. @default ['--import', 'tsx'] */
  execArgv?: readonly string[];
}

/** A producer script and how to run it (`testBackend`'s `producerProcess`). */
export interface ProducerProcess extends Omit<KilledProducerOptions, 'launchFor'> {
  /** The script: it calls `runConformanceProducer` (a path, or a `file:` URL). */
  entry: string | URL;
}

/**
 * Forks a producer (`entry`: a script that launches computations without end and sends
 * its parent a message once its first launch landed), lets it launch for `launchFor` ms,
 * then SIGKILLs it: a producer that dies in the middle of launches, for the test that it
 * left no record `pending` without its queue entry (`unfinishedAfter`). Rejects when the
 * producer exits before its first message.
 */
export async function killProducerMidLaunch(
  entry: string | URL,
  options: KilledProducerOptions,
): Promise<void> {
  const child = fork(entry, [...(options.args ?? [])], {
    execArgv: [...(options.execArgv ?? ['--import', 'tsx'])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`[au] [testing] the producer exited early with ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, options.launchFor));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Waits up to `timeout` ms for every record of `store` (of `query`'s task or tag) to end,
 * and resolves how many are still `pending` or `running` then (0 once all ended).
 */
export async function unfinishedAfter(
  store: ComputationStore,
  timeout: number,
  query: Omit<CountQuery, 'status'> = {},
): Promise<number> {
  const deadline = Date.now() + timeout;
  const unfinished = () => countComputations(store, { ...query, status: ['pending', 'running'] });
  let left = await unfinished();
  while (left > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await unfinished();
  }
  return left;
}

/**
 * The body of a producer process for `testBackend`'s `producer-killed` case: launches the
 * conformance `echo` task through `store` and `backend` without end, 20 launches at a
 * time, each tagged with `AU_PRODUCER_TAG` and, when `AU_PRODUCER_KEYED` is set, under a
 * key of its own; messages its parent once its first launch landed. Never resolves.
 */
export async function runConformanceProducer(setup: {
  store: ComputationStore;
  backend: ComputationBackend;
}): Promise<never> {
  const tag = process.env.AU_PRODUCER_TAG ?? 'au-conformance-producer';
  const keyed = process.env.AU_PRODUCER_KEYED !== undefined;
  const echo = asyncCompute(conformanceTasks.echo, setup);
  let launched = 0;
  const launchOne = () => {
    const n = launched++;
    return echo.launch([`launch ${n}`], { tags: [tag], ...(keyed ? { key: `${tag}-${n}` } : {}) });
  };
  await launchOne();
  process.send?.('launching');
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (;;) await launchOne();
    }),
  );
  throw new Error('[au] [testing] the producer stopped launching');
}
