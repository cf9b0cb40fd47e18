import type { LogLine, TaskLogs } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { paint } from '../../io';

export interface LogsOptions {
  id: string;
  /** Keep printing new lines until the computation ends. */
  follow?: boolean;
  /** Seconds between two reads while following. @default 0.5 */
  interval?: number;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * `au logs <id>`: the lines the computation wrote with `ctx.log`, oldest first (one JSON
 * line each with `--json`). With `--follow`, new lines are printed as they are stored
 * until the computation ends; then the exit code says how it ended (1 when it failed or
 * was cancelled).
 */
export async function run(options: LogsOptions, context: CommandContext): Promise<number> {
  const client = context.client();
  const read = () =>
    client.logs(options.id, { signal: context.signal }).catch((error: unknown) => {
      throw explainError(error, context, { id: options.id });
    });
  let logs: TaskLogs = await read();
  if (logs.dropped > 0 && !context.json) {
    context.io.out(`${paint(context.io, 'dim', `… ${logs.dropped} older lines were not kept`)}\n`);
  }
  // Lines counted from the first ever written, so that a bounded log's shifts are followed.
  let printed = logs.dropped;
  const print = (current: TaskLogs) => {
    const total = current.dropped + current.lines.length;
    const fresh = current.lines.slice(Math.max(0, current.lines.length - (total - printed)));
    for (const entry of fresh)
      context.io.out(`${context.json ? JSON.stringify(entry) : format(context, entry)}\n`);
    printed = Math.max(printed, total);
  };
  print(logs);
  if (options.follow !== true) return EXIT_CODES.ok;
  const interval = (options.interval ?? 0.5) * 1000;
  while (!TERMINAL.has(logs.status) && !context.signal.aborted) {
    await pause(interval, context.signal);
    if (context.signal.aborted) break;
    logs = await read();
    print(logs);
  }
  return logs.status === 'failed' || logs.status === 'cancelled' ? EXIT_CODES.failed : EXIT_CODES.ok;
}

const LEVEL_COLORS = { debug: 'dim', info: 'cyan', warn: 'yellow', error: 'red' } as const;

function format(context: CommandContext, entry: LogLine): string {
  const parts = [
    entry.time.slice(11, 23),
    paint(context.io, LEVEL_COLORS[entry.level], entry.level.toUpperCase().padEnd(5)),
    entry.message,
  ];
  if (entry.data !== undefined) parts.push(paint(context.io, 'dim', JSON.stringify(entry.data)));
  return parts.join(' ');
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
