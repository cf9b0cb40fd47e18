import { checkOptions, optionNames } from './internal/check-options';

/** How a failed attempt is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. 1 means no retry. */
  attempts: number;
  /** How the delay grows: `fixed` (delay), `linear` (delay × n), `exponential` (delay × 2ⁿ⁻¹), or a function of the attempt that failed. @default 'exponential' */
  backoff?: 'fixed' | 'linear' | 'exponential' | ((attempt: number) => number);
  /** Base delay in ms. @default 1000 */
  delay?: number;
  /** Upper bound of any delay in ms. @default Infinity */
  maxDelay?: number;
  /** Random spread: `true` for ±50 %, or a fraction 0–1 (full jitter below the delay). @default false */
  jitter?: boolean | number;
  /** Retry only when this returns true. Validation errors and cancels are never retried. */
  retryOn?: (error: unknown, attempt: number) => boolean;
}

/** No retry: one attempt. */
export const NO_RETRY: RetryPolicy = { attempts: 1 };

/** The serializable part of a retry policy: what crosses to another process with an invocation. */
export interface RetrySpec {
  attempts: number;
  backoff?: 'fixed' | 'linear' | 'exponential';
  delay?: number;
  maxDelay?: number;
  jitter?: boolean | number;
}

/** The serializable part of `policy` (a backoff function and `retryOn` stay behind). */
export function toRetrySpec(policy: RetryPolicy): RetrySpec {
  const spec: RetrySpec = { attempts: policy.attempts };
  if (typeof policy.backoff === 'string') spec.backoff = policy.backoff;
  if (policy.delay !== undefined) spec.delay = policy.delay;
  if (policy.maxDelay !== undefined && Number.isFinite(policy.maxDelay)) spec.maxDelay = policy.maxDelay;
  if (policy.jitter !== undefined) spec.jitter = policy.jitter;
  return spec;
}

/**
 * The policy an attempt runs with: the invocation's spec, with the functions of the
 * task's own policy (`retryOn`, a backoff function) when it has them.
 */
export function withRetryFunctions(spec: RetrySpec, functions: RetryPolicy | undefined): RetryPolicy {
  const policy: RetryPolicy = { ...spec };
  if (typeof functions?.backoff === 'function' && spec.backoff === undefined)
    policy.backoff = functions.backoff;
  if (functions?.retryOn !== undefined) policy.retryOn = functions.retryOn;
  return policy;
}

const RETRY_OPTIONS = optionNames<RetryPolicy>({
  attempts: true,
  backoff: true,
  delay: true,
  maxDelay: true,
  jitter: true,
  retryOn: true,
});

/** Refuses a retry policy with an unknown field or a bad `attempts`. */
export function checkRetryPolicy(where: string, policy: RetryPolicy): void {
  checkOptions(`${where} retry`, policy, RETRY_OPTIONS);
  if (!(Number.isInteger(policy.attempts) && policy.attempts >= 1)) {
    throw new TypeError(`[au] ${where}: \`retry.attempts\` must be an integer ≥ 1, got ${policy.attempts}`);
  }
}
