import {
  ClosedError,
  ComputationNotFoundError,
  ConfigError,
  InvalidKeyError,
  InvalidScheduleError,
  isUnavailableError,
  KeyConflictError,
  NothingToRedriveError,
  QueueFullError,
  RateLimitError,
  RetryNotAllowedError,
  ScheduleNotFoundError,
  TaskNotFoundError,
  TimeoutError,
  UnknownDependencyError,
  ValidationError,
} from '@au/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors/http-error';

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

/** How long a client should wait before trying again after an outage answer, in ms. */
const OUTAGE_RETRY_AFTER = 2000;

/** Fastify's own client-error codes, renamed for the API. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
};

/**
 * Turns any error into `{ error: { code, message } }` with the right status. Core's
 * errors keep their meaning (invalid input 400, unknown computation 404, rate limit
 * or full queue 429, closed 503, a store, queue or lock unavailable for now 503 with `Retry-After`);
 * anything unexpected is logged and answered 500 without details.
 * A stack trace never leaves the server.
 */
export function toErrorAnswer(error: unknown): { statusCode: number; body: ErrorBody } {
  if (HttpError.isInstance(error)) {
    return answer(error.statusCode, error.code, error.message, error.details);
  }
  if (ValidationError.isInstance(error)) {
    return answer(400, 'INVALID_INPUT', error.message, {
      issues: error.issues.map((issue) => ({
        path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
        message: issue.message,
        ...(issue.code === undefined ? {} : { code: issue.code }),
      })),
    });
  }
  if (InvalidKeyError.isInstance(error)) return answer(400, 'INVALID_ID', error.message);
  if (InvalidScheduleError.isInstance(error)) {
    return answer(400, 'INVALID_SCHEDULE', error.message, { field: error.field });
  }
  if (ScheduleNotFoundError.isInstance(error)) return answer(404, 'SCHEDULE_NOT_FOUND', error.message);
  if (KeyConflictError.isInstance(error)) {
    return answer(409, 'KEY_CONFLICT', error.message, { key: error.key, existingTask: error.existingTask });
  }
  if (UnknownDependencyError.isInstance(error)) {
    return answer(400, 'UNKNOWN_DEPENDENCY', error.message, { missing: error.missing });
  }
  if (ComputationNotFoundError.isInstance(error)) return answer(404, 'NOT_FOUND', error.message);
  if (TaskNotFoundError.isInstance(error)) return answer(404, 'TASK_NOT_FOUND', error.message);
  if (RetryNotAllowedError.isInstance(error)) {
    return answer(409, 'RETRY_NOT_ALLOWED', error.message, { status: error.status });
  }
  if (NothingToRedriveError.isInstance(error)) return answer(404, 'NOTHING_TO_REDRIVE', error.message);
  if (RateLimitError.isInstance(error)) {
    return answer(429, 'RATE_LIMITED', error.message, { retryAfter: error.retryAfter });
  }
  if (QueueFullError.isInstance(error)) {
    return answer(429, 'QUEUE_FULL', error.message, {
      retryAfter: error.retryAfter,
      limit: error.limit,
      queued: error.queued,
    });
  }
  if (ClosedError.isInstance(error)) return answer(503, 'UNAVAILABLE', error.message);
  if (isUnavailableError(error)) {
    // Its message names hosts and settings: it stays in the server's log.
    return answer(
      503,
      'UNAVAILABLE',
      'something this server needs (its store, its queue or a lock) is unavailable right now; try again shortly',
      { retryAfter: OUTAGE_RETRY_AFTER },
    );
  }
  if (TimeoutError.isInstance(error)) return answer(504, 'TIMEOUT', error.message);
  if (ConfigError.isInstance(error)) return answer(400, 'BAD_REQUEST', error.message);
  const fastifyError = error as Partial<FastifyError>;
  if (Array.isArray(fastifyError.validation)) {
    return answer(400, 'BAD_REQUEST', String(fastifyError.message));
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (fastifyError.code && FASTIFY_CODES[fastifyError.code]) ?? 'BAD_REQUEST';
    return answer(status, code, String(fastifyError.message ?? 'bad request'));
  }
  return answer(500, 'INTERNAL', 'internal server error: the server log has the details');
}

/** Fastify error handler using `toErrorAnswer`; logs what answers 5xx. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { statusCode, body } = toErrorAnswer(error);
  if (statusCode === 503) request.log.warn({ err: error }, 'request refused: closing or unavailable');
  else if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.debug({ err: error, statusCode }, 'request refused');
  if (statusCode === 401) reply.header('www-authenticate', 'Bearer');
  if (statusCode === 429 || statusCode === 503) {
    const retryAfter = body.error.retryAfter;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(Math.ceil(retryAfter / 1000)));
  }
  void reply.code(statusCode).type('application/json; charset=utf-8').send(body);
}

function answer(
  statusCode: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): { statusCode: number; body: ErrorBody } {
  return { statusCode, body: { error: { ...details, code, message } } };
}
