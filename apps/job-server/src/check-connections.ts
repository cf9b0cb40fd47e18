import type { AuConfig } from '@au/core';
import { StartupCheckError } from './errors/startup-check-error';

/** A key no computation uses: reading it proves the store answers (and is migrated). */
const PROBE_KEY = 'au-job-server-startup-probe';
/** Longest wait for each answer. */
const CHECK_TIMEOUT = 10_000;

/**
 * Checks at start-up that the store answers a read and the backend its `ping`, so a
 * missing migration or an unreachable Redis stops the start with its own message.
 */
export async function checkConnections(config: AuConfig): Promise<void> {
  await answers(`store (${config.describe.store})`, () => config.store.get(PROBE_KEY));
  await answers(`backend (${config.describe.backend})`, async () => {
    await config.backend.ping?.();
  });
}

async function answers(component: string, probe: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT / 1000} s`)), CHECK_TIMEOUT);
  });
  try {
    await Promise.race([probe(), timedOut]);
  } catch (error) {
    throw new StartupCheckError({ component, cause: error });
  } finally {
    clearTimeout(timer);
  }
}
