const marker = Symbol.for('au.client.http-error');

/**
 * The server answered with an error status (or not at all). `status` is the HTTP
 * status (0 when no answer came), `body` the parsed answer, `code` its `error.code`.
 */
export class AuHttpError extends Error {
  readonly [marker] = true;
  readonly status: number;
  readonly code: string;
  readonly body: unknown;

  constructor({
    status,
    body,
    method,
    url,
    cause,
  }: { status: number; body: unknown; method: string; url: string; cause?: unknown }) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : status === 0 ? 'NETWORK' : `HTTP_${status}`;
    const detail =
      typeof error?.message === 'string'
        ? error.message
        : status === 0
          ? String((cause as Error)?.message)
          : '';
    super(
      `[au] [client] ${method} ${url} ${status === 0 ? 'failed' : `answered ${status}`}${detail ? `: ${detail}` : ''}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'AuHttpError';
    this.status = status;
    this.code = code;
    this.body = body;
  }

  static isInstance(error: unknown): error is AuHttpError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
