import { sleep } from '@au/core';

/** Attempts in all for an idempotent call whose request failed on the network. */
export const NETWORK_ATTEMPTS = 5;

/**
 * Runs `work`; when it fails with a network error (`isNetworkError`) and the call is
 * idempotent, tries again after 50, 100, 200, 400 ms (with jitter).
 */
export async function retryNetwork<T>(
  work: () => Promise<T>,
  idempotent: boolean,
  isNetworkError: (error: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!idempotent || attempt >= NETWORK_ATTEMPTS || !isNetworkError(error)) throw error;
      await sleep(50 * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
    }
  }
}
