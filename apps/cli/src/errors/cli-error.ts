import type { ExitCode } from '../exit-codes';

const marker = Symbol.for('au.cli.error');

/**
 * A failure `au` explains to the person at the terminal: the message says what went
 * wrong and what to do; `exitCode` is the process's exit code.
 */
export class CliError extends Error {
  readonly [marker] = true;
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor({
    message,
    exitCode,
    code = 'AU_CLI',
    cause,
  }: { message: string; exitCode: ExitCode; code?: string; cause?: unknown }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }

  static isInstance(error: unknown): error is CliError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
