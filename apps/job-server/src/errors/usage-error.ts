/** The command line or a server setting is wrong; the message says what to change. */
export class UsageError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
  }

  static isInstance(error: unknown): error is UsageError {
    return error instanceof Error && error.name === 'UsageError' && 'exitCode' in error;
  }
}
