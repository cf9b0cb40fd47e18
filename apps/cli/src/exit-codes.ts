/** The exit codes of `au`, the same for every command. */
export const EXIT_CODES = {
  /** The command did what was asked (a computation may still be running). */
  ok: 0,
  /** The computation failed or was cancelled. */
  failed: 1,
  /** The command line is wrong: unknown option, bad input, unknown task, missing API key. */
  usage: 2,
  /** The server cannot be reached, is not an au server, or has no such computation. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
