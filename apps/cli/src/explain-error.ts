import { AuHttpError } from '@au/client';
import type { CommandContext } from './command-context';
import { CliError } from './errors/cli-error';
import { EXIT_CODES } from './exit-codes';

/** What the failed request was about, for the message. */
export interface ErrorSubject {
  /** The computation id the command was given. */
  id?: string;
}

/**
 * Turns what a request threw into a `CliError` whose message says what to do: the
 * server is not running or not an au server (exit 3), it needs an API key (exit 2),
 * the id is unknown (exit 3), the input is invalid (exit 2). A `CliError` passes through.
 */
export function explainError(
  error: unknown,
  context: Pick<CommandContext, 'url' | 'apiKey'>,
  subject: ErrorSubject = {},
): CliError {
  if (CliError.isInstance(error)) return error;
  const { url } = context;
  if (error instanceof SyntaxError) {
    return new CliError({
      message: `${url} does not look like an au job server (its answer is not JSON): check --url or AU_URL`,
      exitCode: EXIT_CODES.unreachable,
      code: 'NOT_AN_AU_SERVER',
      cause: error,
    });
  }
  if (!AuHttpError.isInstance(error)) {
    return new CliError({
      message: `unexpected error: ${(error as Error)?.message ?? String(error)}`,
      exitCode: EXIT_CODES.failed,
      code: 'UNEXPECTED',
      cause: error,
    });
  }
  const serverMessage = errorMessage(error.body);
  if (error.status === 0) {
    const reason = networkReason(error);
    return new CliError({
      message: `cannot reach an au server at ${url}${reason ? ` (${reason})` : ''}: start one (npx --yes pnpm@10 start) or point --url / AU_URL at it`,
      exitCode: EXIT_CODES.unreachable,
      code: 'UNREACHABLE',
      cause: error,
    });
  }
  if (error.status === 401) {
    return new CliError({
      message:
        context.apiKey === undefined
          ? `the server at ${url} needs an API key: pass --api-key <key> or set AU_API_KEY`
          : `the server at ${url} refused the API key: check --api-key or AU_API_KEY`,
      exitCode: EXIT_CODES.usage,
      code: 'UNAUTHORIZED',
      cause: error,
    });
  }
  if (error.status === 404 && serverMessage === undefined) {
    return new CliError({
      message: `${url} does not look like an au job server (${error.message.replace('[au] [client] ', '')}): check --url or AU_URL`,
      exitCode: EXIT_CODES.unreachable,
      code: 'NOT_AN_AU_SERVER',
      cause: error,
    });
  }
  if (error.status === 404 && error.code === 'NOT_FOUND' && subject.id !== undefined) {
    return new CliError({
      message: `no computation "${subject.id}" on ${url}: it never existed there, or it has expired (see au list)`,
      exitCode: EXIT_CODES.unreachable,
      code: 'NOT_FOUND',
      cause: error,
    });
  }
  if (error.code === 'INVALID_INPUT') {
    const issues =
      (error.body as { error?: { issues?: { path?: unknown[]; message?: string }[] } }).error?.issues ?? [];
    const lines = issues.map((issue) => `  - ${(issue.path ?? []).join('.') || '(input)'}: ${issue.message}`);
    return new CliError({
      message: `the input is not valid for this task:\n${lines.length > 0 ? lines.join('\n') : `  ${serverMessage}`}\n(see au tasks for each task's input)`,
      exitCode: EXIT_CODES.usage,
      code: 'INVALID_INPUT',
      cause: error,
    });
  }
  const exitCode = error.status >= 500 ? EXIT_CODES.unreachable : EXIT_CODES.usage;
  return new CliError({
    message: `the server answered ${error.status}${serverMessage ? `: ${serverMessage}` : ''}`,
    exitCode,
    code: error.code,
    cause: error,
  });
}

/** The `error.message` of an au error body, if the body is one. */
export function errorMessage(body: unknown): string | undefined {
  const message = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof message?.code === 'string' && typeof message.message === 'string'
    ? message.message
    : undefined;
}

function networkReason(error: AuHttpError): string | undefined {
  // fetch wraps the socket's error: the innermost code or message says what happened.
  let cause: unknown = error.cause;
  let message: string | undefined;
  for (let depth = 0; depth < 5 && cause !== undefined && cause !== null; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    message = (cause as Error).message ?? message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}
