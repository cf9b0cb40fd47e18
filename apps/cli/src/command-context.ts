import type { AuClient } from '@au/client';
import type { Io } from './io';

/** What every command gets besides its own options. */
export interface CommandContext {
  io: Io;
  /** `--json`: print JSON for scripts instead of text. */
  json: boolean;
  /** The server's URL (`--url`, `AU_URL`, else http://127.0.0.1:8080). */
  url: string;
  /** `--api-key` or `AU_API_KEY`. */
  apiKey: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** The client for `url` and `apiKey`. */
  client(): AuClient;
  /** Aborted on Ctrl-C: long waits stop and the command returns. */
  signal: AbortSignal;
}
