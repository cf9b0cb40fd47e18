const marker = Symbol.for('au.http-error');

/**
 * An error that becomes an HTTP answer as it is: `statusCode` and the JSON body
 * `{ error: { code, message, ...details } }`.
 */
export class HttpError extends Error {
  readonly [marker] = true;
  readonly statusCode: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = options.details;
  }

  static isInstance(error: unknown): error is HttpError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
