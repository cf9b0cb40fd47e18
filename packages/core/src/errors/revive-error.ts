import type { SerializedError } from '../record';
import { AuError } from './au-error';

/**
 * Rebuilds an error that crossed a boundary (a thread, a process, a queue) from what
 * `serializeError` made of it: its name, message, stack and code survive. An au error
 * (code `AU_…`) comes back as an `AuError`, so checks such as
 * `ValidationError.isInstance` still hold on the other side.
 */
export function reviveError(serialized: SerializedError): Error {
  const error: Error & { code?: string } =
    serialized.code?.startsWith('AU_') === true
      ? new AuError(serialized.code, { message: serialized.message })
      : new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.code !== undefined) error.code = serialized.code;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
