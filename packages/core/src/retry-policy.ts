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
