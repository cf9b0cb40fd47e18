import type { TaskStatus, TaskView } from '@au/client';
import { progressFraction } from '@au/client';
import { type Io, paint } from './io';

const STATUS_STYLES: Record<TaskStatus, 'gray' | 'cyan' | 'green' | 'red' | 'yellow'> = {
  pending: 'gray',
  running: 'cyan',
  completed: 'green',
  failed: 'red',
  cancelled: 'yellow',
};

/** A status word, coloured when colours are allowed. */
export function formatStatus(io: Pick<Io, 'color'>, status: TaskStatus): string {
  return paint(io, STATUS_STYLES[status] ?? 'gray', status);
}

/** `42%`, or an empty string when the progress has no fraction. */
export function formatPercent(progress: unknown): string {
  const fraction = progressFraction(progress);
  return fraction === undefined ? '' : `${Math.floor(fraction * 100)}%`;
}

/** `[#####-----] 50%` (text only: safe in any output). */
export function formatBar(progress: unknown, width = 10): string {
  const fraction = progressFraction(progress);
  if (fraction === undefined) return '';
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(fraction * 100)}%`;
}

/** `3s`, `5m`, `2h`, `4d` since `iso`. */
export function formatAge(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** A result for a person: strings as they are, anything else as indented JSON. */
export function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** Rows as aligned columns; the header row first. Colour codes do not count in widths. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, visibleLength(cell));
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) =>
          index === row.length - 1 ? cell : cell + ' '.repeat(widths[index]! - visibleLength(cell)),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The table of `au list` and `au watch`. */
export function formatTaskTable(io: Pick<Io, 'color'>, items: readonly TaskView[], now = Date.now()): string {
  const rows = [['ID', 'TASK', 'STATUS', 'PROGRESS', 'AGE']];
  for (const item of items) {
    rows.push([
      item.taskId,
      item.task,
      formatStatus(io, item.status) + (item.paused === true ? ' (paused)' : ''),
      formatBar(item.progress),
      formatAge(item.createdAt, now),
    ]);
  }
  return formatTable(rows);
}

/** One line per field of a computation, for `au status`. */
export function formatTaskView(io: Pick<Io, 'color'>, view: TaskView, now = Date.now()): string {
  const lines: [string, string][] = [
    ['id', view.taskId],
    ['task', view.task],
    [
      'status',
      formatStatus(io, view.status) + (view.paused === true ? ' (paused: waits for au resume)' : ''),
    ],
  ];
  if (view.progress !== undefined) {
    const bar = formatBar(view.progress);
    lines.push(['progress', `${bar ? `${bar} ` : ''}${JSON.stringify(view.progress)}`]);
  }
  lines.push(['attempt', `${view.attempt} of ${view.maxAttempts}`]);
  if (view.priority !== undefined && view.priority !== 0) lines.push(['priority', String(view.priority)]);
  if (view.tags !== undefined && view.tags.length > 0) lines.push(['tags', view.tags.join(', ')]);
  lines.push(['created', `${view.createdAt} (${formatAge(view.createdAt, now)} ago)`]);
  if (view.startedAt !== undefined) lines.push(['started', view.startedAt]);
  if (view.finishedAt !== undefined) lines.push(['finished', view.finishedAt]);
  if (view.expiresAt !== undefined) lines.push(['expires', view.expiresAt]);
  if (view.error !== undefined) lines.push(['error', `${view.error.code}: ${view.error.message}`]);
  const body = formatTable(lines.map(([name, value]) => [paint(io, 'bold', name), value]));
  return view.error?.stack === undefined ? body : `${body}\n\n${paint(io, 'dim', view.error.stack)}`;
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}
