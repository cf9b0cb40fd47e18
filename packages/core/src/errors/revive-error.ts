import type { SerializedError } from '../record';
import { AuError } from './au-error';
import { CancelledError } from './cancelled-error';

/**
 * Rebuilds an error that crossed a boundary (a thread, a process, a queue) from what
 * `serializeError` made of it: its name, message, stack and code survive. A cancel
 * comes back as a `CancelledError` with its `key` and `reason`; any other au error (code
 * `AU_…`) as an `AuError`, so checks such as `ValidationError.isInstance` still hold on
 * the other side.
 */
export function reviveError(serialized: SerializedError): Error {
  const error: Error & { code?: string } = isCancel(serialized)
    ? new CancelledError({
        ...(serialized.key === undefined ? {} : { key: serialized.key }),
        ...(serialized.reason === undefined ? {} : { reason: serialized.reason }),
      })
    : serialized.code?.startsWith('AU_') === true
      ? new AuError(serialized.code, { message: serialized.message })
      : new Error(serialized.message);
  // The message as it was written (a cancel's is rebuilt the same way, unless its writer worded it otherwise).
  error.message = serialized.message;
  error.name = serialized.name;
  if (serialized.code !== undefined) error.code = serialized.code;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

function isCancel(serialized: SerializedError): boolean {
  return serialized.name === 'CancelledError' && serialized.code === 'AU_CANCELLED';
}
