import type { TaskStatus, TaskView } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { formatBar, formatStatus, formatTaskTable } from '../../format';
import { paint } from '../../io';

export interface WatchOptions {
  /** @default ['pending', 'running'] */
  status?: string[];
  task?: string;
  /** Seconds between refreshes. @default 1 */
  interval?: number;
  /** Stop once nothing matches (nothing pending or running). */
  untilIdle?: boolean;
}

const RECENT = 5;

/**
 * `au watch`: a live view of the computations in flight. On a terminal the view is
 * redrawn in place with progress bars; otherwise (or with `--json`) one line per
 * change is printed, so it can be logged or piped. Runs until Ctrl-C, or with
 * `--until-idle` until nothing is left in flight.
 */
export async function run(options: WatchOptions, context: CommandContext): Promise<number> {
  const { io } = context;
  const client = context.client();
  const statuses = (options.status ?? ['pending', 'running']) as TaskStatus[];
  const interval = (options.interval ?? 1) * 1000;
  const redraw = io.interactive && !context.json;
  let known = new Map<string, TaskView>();
  const recent: TaskView[] = [];
  while (!context.signal.aborted) {
    const page = await client
      .list({ status: statuses, limit: 100, ...(options.task === undefined ? {} : { task: options.task }) })
      .catch((error: unknown) => {
        throw explainError(error, context);
      });
    const current = new Map(page.items.map((item) => [item.taskId, item]));
    const changes: TaskView[] = page.items.filter((item) => changed(known.get(item.taskId), item));
    for (const [id] of known) {
      if (current.has(id)) continue;
      // It left the filter: show where it ended up.
      const view = await client.status(id).catch(() => undefined);
      if (view !== undefined) {
        changes.push(view);
        recent.unshift(view);
      }
    }
    recent.splice(RECENT);
    known = current;
    if (redraw) {
      io.out(`\u001b[2J\u001b[H${screen(context, page.items, recent, page.cursor !== undefined)}\n`);
    } else {
      for (const view of changes) io.out(`${context.json ? JSON.stringify(view) : line(context, view)}\n`);
    }
    if (options.untilIdle && current.size === 0) break;
    await sleep(interval, context.signal);
  }
  return EXIT_CODES.ok;
}

function changed(before: TaskView | undefined, after: TaskView): boolean {
  return (
    before === undefined ||
    before.status !== after.status ||
    JSON.stringify(before.progress) !== JSON.stringify(after.progress)
  );
}

function line(context: CommandContext, view: TaskView): string {
  const time = new Date().toISOString().slice(11, 19);
  const parts = [time, view.taskId, view.task, formatStatus(context.io, view.status)];
  const bar = formatBar(view.progress);
  if (bar) parts.push(bar);
  if (view.error !== undefined) parts.push(`${view.error.code}: ${view.error.message}`);
  return parts.join('  ');
}

function screen(context: CommandContext, items: TaskView[], recent: TaskView[], more: boolean): string {
  const { io } = context;
  const header = paint(
    io,
    'bold',
    `au watch · ${context.url} · ${items.length}${more ? '+' : ''} in flight · ${new Date().toLocaleTimeString()} · Ctrl-C to stop`,
  );
  const body = items.length === 0 ? paint(io, 'dim', 'nothing in flight') : formatTaskTable(io, items);
  const finished =
    recent.length === 0 ? '' : `\n\n${paint(io, 'bold', 'recently ended')}\n${formatTaskTable(io, recent)}`;
  return `${header}\n\n${body}${finished}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
