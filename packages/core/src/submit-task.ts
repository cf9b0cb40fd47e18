import { type AsyncComputeOptions, asyncCompute } from './async-compute';
import { jsonCodec } from './codecs/json-codec';
import type { Codec } from './contracts/codec';
import type { ComputationStore } from './contracts/store';
import { getDefaults } from './defaults';
import { ComputationNotFoundError } from './errors/computation-not-found-error';
import type { ComputationHandle } from './handle';
import { ComputationHandle as Handle } from './handle';
import { assertValidKey } from './keys';
import type { LaunchOptions } from './launch';
import type { ComputationStatus } from './status';
import type { TaskDefinition } from './task';

/** Launches a task once, without keeping an `asyncCompute` around. */
export async function submitTask<Input, Result>(
  task: TaskDefinition<Input, Result>,
  input: Input,
  options: AsyncComputeOptions & LaunchOptions = {},
): Promise<ComputationHandle<Result>> {
  const { key, priority, delay, tags, meta, parent, idempotencyWindow, dependsOn, ...computeOptions } =
    options;
  const launchOptions: LaunchOptions = {
    key,
    priority,
    delay,
    tags,
    meta,
    parent,
    idempotencyWindow,
    dependsOn,
    ttl: options.ttl,
  };
  for (const name of Object.keys(launchOptions) as (keyof LaunchOptions)[]) {
    if (launchOptions[name] === undefined) delete launchOptions[name];
  }
  return asyncCompute(task, computeOptions).launch([input], launchOptions);
}

/** The status of a computation. Rejects `ComputationNotFoundError` when there is none. */
export async function getStatus(
  key: string,
  options: { store?: ComputationStore } = {},
): Promise<ComputationStatus> {
  assertValidKey(key);
  const store = options.store ?? getDefaults().store;
  const record = await store.get(key);
  if (record === undefined) throw new ComputationNotFoundError({ key, store: store.name });
  return record.status;
}

export interface GetResultOptions {
  store?: ComputationStore;
  /** @default jsonCodec */
  codec?: Codec;
  /** Wait for the computation to end; otherwise an unfinished one rejects `TimeoutError` at once. @default true */
  wait?: boolean;
  /** Milliseconds to wait. @default no limit */
  timeout?: number;
  signal?: AbortSignal;
}

/** The result of a computation by key, as `handle.result()` gives it. */
export function getResult<T = unknown>(key: string, options: GetResultOptions = {}): Promise<T> {
  assertValidKey(key);
  const defaults = getDefaults();
  const handle = new Handle<T>(key, {
    store: options.store ?? defaults.store,
    backend: defaults.backend,
    codec: options.codec ?? jsonCodec,
  });
  const timeout = options.wait === false ? 0 : options.timeout;
  return handle.result({
    ...(timeout === undefined ? {} : { timeout }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
