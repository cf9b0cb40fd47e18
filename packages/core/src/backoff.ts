import type { RetryPolicy } from './retry-policy';

/**
 * Milliseconds to wait after attempt `attempt` (1-based) failed, per the policy.
 * `random` is injectable for deterministic tests.
 */
export function computeBackoff(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = policy.delay ?? 1000;
  const backoff = policy.backoff ?? 'exponential';
  let delay: number;
  if (typeof backoff === 'function') delay = backoff(attempt);
  else if (backoff === 'fixed') delay = base;
  else if (backoff === 'linear') delay = base * attempt;
  else delay = base * 2 ** (attempt - 1);
  delay = Math.min(Math.max(0, delay), policy.maxDelay ?? Number.POSITIVE_INFINITY);
  if (policy.jitter) {
    const spread = policy.jitter === true ? 0.5 : Math.min(Math.max(policy.jitter, 0), 1);
    delay = delay * (1 - spread) + delay * spread * 2 * random() * (policy.jitter === true ? 1 : 0.5);
    delay = Math.min(delay, policy.maxDelay ?? Number.POSITIVE_INFINITY);
  }
  return Math.round(delay);
}
