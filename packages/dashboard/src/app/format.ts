import { progressFraction } from '@au/client';
import { h } from './dom';
import type { TaskView } from './types';

/** `3s`, `5m`, `2h`, `4d` since `iso`. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** `just now`, `12 s ago`, `5 min ago`, `in 3 h` (for a time to come, such as an expiry). */
export function relative(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '';
  const ms = now - Date.parse(iso);
  if (Math.abs(ms) < 2000) return 'just now';
  const text = duration(Math.abs(ms), true);
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** A local date and time with milliseconds: `2026-12-03 07:14:05.123`. */
export function time(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const date = new Date(iso);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A `<time>`: relative text, the absolute local time (and UTC) on hover. */
export function timeElement(iso: string | undefined, options: { absolute?: boolean } = {}): HTMLElement {
  if (iso === undefined) return h('span', { class: 'muted' }, '—');
  const text = options.absolute ? `${time(iso)} (${relative(iso)})` : relative(iso);
  return h('time', { datetime: iso, title: `${time(iso)} local · ${iso}` }, text);
}

/** `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`, `3 d 4 h`; `coarse` drops milliseconds. */
export function duration(ms: number, coarse = false): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return coarse ? '1 s' : `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return coarse || seconds >= 10 ? `${Math.floor(seconds)} s` : `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${seconds % 60 >= 1 ? ` ${Math.floor(seconds % 60)} s` : ''}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 > 0 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 > 0 ? ` ${hours % 24} h` : ''}`;
}

/**
 * How long the computation waited in the queue: from creation to its (latest) start,
 * or until now while it is still pending. `undefined` when it never started and ended.
 */
export function queueWait(view: TaskView, now = Date.now()): number | undefined {
  const created = Date.parse(view.createdAt);
  if (view.startedAt !== undefined) return Date.parse(view.startedAt) - created;
  if (view.status === 'pending') return now - created;
  return undefined;
}

/** How long its (latest) attempt ran: until it finished, or until now while running. */
export function runDuration(view: TaskView, now = Date.now()): number | undefined {
  if (view.startedAt === undefined) return undefined;
  const started = Date.parse(view.startedAt);
  if (view.finishedAt !== undefined) return Date.parse(view.finishedAt) - started;
  if (view.status === 'running') return now - started;
  return undefined;
}

/** A duration or a dash. */
export function maybeDuration(ms: number | undefined): string {
  return ms === undefined ? '—' : duration(ms);
}

/** A status badge. */
export function statusBadge(status: TaskView['status']): HTMLElement {
  return h('span', { class: `badge ${status}`, 'data-status': status }, status);
}

/** The badge beside the status of a pending computation whose task (or queue) is paused. */
export function pausedBadge(): HTMLElement {
  return h(
    'span',
    { class: 'badge paused', title: 'its task or the queue is paused: it waits for a resume' },
    'paused',
  );
}

/** A progress bar for a computation (full when completed; empty text when unknown). */
export function progressBar(view: TaskView): HTMLElement {
  const fraction = view.status === 'completed' ? 1 : progressFraction(view.progress);
  const percent = fraction === undefined ? undefined : Math.floor(fraction * 100);
  const bar = h(
    'div',
    {
      class: `bar ${view.status}${percent === undefined ? ' unknown' : ''}`,
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': percent,
      'data-progress': percent ?? '',
      title: view.progress === undefined ? '' : JSON.stringify(view.progress),
    },
    h('span', { class: 'fill' }),
    h(
      'span',
      { class: 'label' },
      percent === undefined ? (view.status === 'running' ? '…' : '') : `${percent}%`,
    ),
  );
  (bar.firstElementChild as HTMLElement).style.width = `${percent ?? 0}%`;
  return bar;
}

/** Pretty JSON. */
export function json(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}
