const marker = Symbol.for('au.error');

export interface AuErrorOptions {
  message: string;
  cause?: unknown;
}

/**
 * Base of every au error. `code` is stable and documented; `isInstance` works even when
 * two copies of `@au/core` are loaded (it checks a global symbol, not the prototype chain).
 */
export class AuError extends Error {
  readonly [marker] = true;
  readonly code: string;

  constructor(code: string, { message, cause }: AuErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AuError';
    this.code = code;
  }

  static isInstance(error: unknown): error is AuError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

/** `isInstance` for one subclass: an au error carrying that class's `name`. */
export function isAuErrorNamed<T extends AuError>(error: unknown, name: string): error is T {
  return AuError.isInstance(error) && error.name === name;
}
