import type { SerializedError } from '../record';
import { CancelledError } from './cancelled-error';

/**
 * Turns anything thrown into the plain data a store keeps. A `CancelledError` keeps its
 * `key` and `reason` as fields of their own, so readers never parse them out of the message.
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const serialized: SerializedError = { name: error.name, message: error.message };
    if (error.stack !== undefined) serialized.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);
    if (CancelledError.isInstance(error)) {
      // A revived copy may be a plain AuError named CancelledError: read the fields loosely.
      const { key, reason } = error as { key?: unknown; reason?: unknown };
      if (typeof key === 'string') serialized.key = key;
      if (typeof reason === 'string') serialized.reason = reason;
    }
    return serialized;
  }
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return { name: typeof name === 'string' ? name : 'Error', message: String(message) };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
