import type { RetryPolicy } from '@au/core';
import type { BackoffSpec } from './queue-client';

/**
 * A retry policy's backoff for the SQL side (`au_backoff_ms` mirrors core's
 * `computeBackoff`). A backoff function cannot travel: `undefined` then, and the
 * worker passes the delay it computed.
 */
export function toBackoffSpec(policy: RetryPolicy): BackoffSpec | undefined {
  const backoff = policy.backoff ?? 'exponential';
  if (typeof backoff === 'function') return undefined;
  const spec: BackoffSpec = { kind: backoff, delay: policy.delay ?? 1000 };
  if (policy.maxDelay !== undefined && Number.isFinite(policy.maxDelay)) spec.max = policy.maxDelay;
  if (policy.jitter) {
    spec.spread = policy.jitter === true ? 0.5 : Math.min(Math.max(policy.jitter, 0), 1);
    spec.scale = policy.jitter === true ? 1 : 0.5;
  }
  return spec;
}

/** The policy a worker rebuilds from a queue row (for work launched elsewhere). */
export function fromBackoffSpec(
  attempts: number,
  spec: BackoffSpec | null,
  retryOn?: RetryPolicy['retryOn'],
): RetryPolicy {
  const policy: RetryPolicy = { attempts };
  if (spec !== null) {
    policy.backoff = spec.kind;
    policy.delay = spec.delay;
    if (spec.max !== undefined) policy.maxDelay = spec.max;
    if (spec.spread !== undefined) policy.jitter = spec.scale === 1 ? true : spec.spread;
  }
  if (retryOn !== undefined) policy.retryOn = retryOn;
  return policy;
}
