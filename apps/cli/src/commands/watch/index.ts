import type { AuClient, TaskStatus, TaskView, WatchEvent } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { formatBar, formatStatus, formatTaskTable } from '../../format';
import { paint } from '../../io';

export interface WatchOptions {
  /** @default ['pending', 'running'] */
  status?: string[];
  task?: string;
  tag?: string;
  /** Seconds between two redraws of the terminal view. @default 1 */
  interval?: number;
  /** Stop once nothing matches (nothing pending or running). */
  untilIdle?: boolean;
}

const RECENT = 5;

/**
 * `au watch`: a live view of the computations in flight, fed by the server's event
 * stream (`GET /events`): the current ones are listed once, then each change comes as
 * it happens. On a terminal the view is redrawn in place with progress bars; otherwise
 * (or with `--json`) one line per change is printed, so it can be logged or piped. Runs
 * until Ctrl-C, or with `--until-idle` until nothing is left in flight.
 */
export async function run(options: WatchOptions, context: CommandContext): Promise<number> {
  const { io } = context;
  const client = context.client();
  const statuses = new Set((options.status ?? ['pending', 'running']) as TaskStatus[]);
  const interval = (options.interval ?? 1) * 1000;
  const redraw = io.interactive && !context.json;
  const controller = new AbortController();
  const stop = () => controller.abort();
  context.signal.addEventListener('abort', stop, { once: true });
  const filters = {
    ...(options.task === undefined ? {} : { task: options.task }),
    ...(options.tag === undefined ? {} : { tag: options.tag }),
  };
  const explain = (error: unknown) => {
    throw explainError(error, context);
  };

  // Follow first (the request goes out now), then read what is in flight: nothing falls between.
  const events = client.watch(filters, { signal: controller.signal })[Symbol.asyncIterator]();
  let next = events.next().catch(explain);
  const known = new Map<string, TaskView>();
  const recent: TaskView[] = [];
  let more = await baseline(client, statuses, filters, known).catch(explain);
  let drawn = 0;
  let drawTimer: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    drawTimer = undefined;
    drawn = Date.now();
    io.out(`\u001b[2J\u001b[H${screen(context, [...known.values()], recent, more)}\n`);
  };
  const show = (view: TaskView | undefined) => {
    if (!redraw) {
      if (view !== undefined) io.out(`${context.json ? JSON.stringify(view) : line(context, view)}\n`);
      return;
    }
    // Redrawn at most once per interval: a burst of changes is one redraw.
    if (drawTimer !== undefined) return;
    const wait = drawn + interval - Date.now();
    if (wait <= 0) draw();
    else drawTimer = setTimeout(draw, wait);
  };
  if (!redraw) for (const view of known.values()) show(view);
  else show(undefined);

  try {
    while (!(options.untilIdle && known.size === 0)) {
      const result = (await next) as IteratorResult<WatchEvent>;
      if (result.done) break;
      next = events.next().catch(explain);
      const event = result.value;
      if (event.type === 'reset') {
        // Changes were missed: read what is in flight again.
        known.clear();
        more = await baseline(client, statuses, filters, known).catch(explain);
        show(undefined);
        continue;
      }
      const view = event.task;
      const before = known.get(view.taskId);
      if (statuses.has(view.status)) {
        if (before !== undefined && !changed(before, view)) continue;
        known.set(view.taskId, view);
      } else {
        if (before === undefined && !redraw) {
          // Not followed: shown only when it leaves the view.
          continue;
        }
        known.delete(view.taskId);
        recent.unshift(view);
        recent.splice(RECENT);
      }
      show(view);
    }
  } finally {
    if (drawTimer !== undefined) {
      // The last changes are on screen before it stops.
      clearTimeout(drawTimer);
      if (!context.signal.aborted) draw();
    }
    context.signal.removeEventListener('abort', stop);
    controller.abort();
    await events.return?.(undefined).catch(() => undefined);
  }
  return EXIT_CODES.ok;
}

/** Fills `known` with what matches now; true when there was more than one page. */
async function baseline(
  client: AuClient,
  statuses: Set<TaskStatus>,
  filters: { task?: string; tag?: string },
  known: Map<string, TaskView>,
): Promise<boolean> {
  const page = await client.list({ status: [...statuses], limit: 100, ...filters });
  for (const item of page.items) known.set(item.taskId, item);
  return page.cursor !== undefined;
}

function changed(before: TaskView, after: TaskView): boolean {
  return before.status !== after.status || JSON.stringify(before.progress) !== JSON.stringify(after.progress);
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
