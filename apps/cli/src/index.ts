export {
  type CommandName,
  type CommandOptionsMap,
  createProgram,
  DEFAULT_URL,
  type GlobalOptions,
  type ParsedCommandLine,
  parseCommandLine,
  type RunCliOptions,
  runCli,
} from './cli';
export type { CommandContext } from './command-context';
export { CliError } from './errors/cli-error';
export { EXIT_CODES, type ExitCode } from './exit-codes';
export { type Io, processIo } from './io';
export { parseInput } from './parse-input';
