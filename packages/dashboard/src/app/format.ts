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

/** A local date and time with milliseconds. */
export function time(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const date = new Date(iso);
  return `${date.toLocaleString()}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** A status badge. */
export function statusBadge(status: TaskView['status']): HTMLElement {
  return h('span', { class: `badge ${status}`, 'data-status': status }, status);
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
