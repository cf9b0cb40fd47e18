import type { Api } from './api';
import { h, replaceChildren } from './dom';
import { duration } from './format';
import { STATUSES, type StatsView, type TaskStatus, type TaskView } from './types';

/** How many computations the counts read at most (the API's largest page). */
const SAMPLE = 1000;
const POLL_MS = 5000;

export interface CountFilter {
  status?: TaskStatus | '';
  task?: string;
}

/** Counts per status and per task and status, from one list of views. */
export function countViews(items: TaskView[]): {
  total: Record<TaskStatus, number>;
  byTask: Map<string, Record<TaskStatus, number>>;
} {
  const empty = () => Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
  const total = empty();
  const byTask = new Map<string, Record<TaskStatus, number>>();
  for (const item of items) {
    total[item.status] += 1;
    const row = byTask.get(item.task) ?? empty();
    byTask.set(item.task, row);
    row[item.status] += 1;
  }
  return { total, byTask };
}

/**
 * Counts per status (one button each, which filters the list) and a table per task and
 * status. From `GET /stats` when the server has it (exact counts of the store, and what
 * ran recently: throughput, success rate, duration and queue-wait percentiles); else
 * counted over the newest 1000 computations, saying so when there are more.
 */
export class CountsView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onPick: (filter: CountFilter) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tasks: string[] = [];
  #loading = false;
  #again = false;
  /** The server has `GET /stats`. */
  #stats = false;

  constructor(api: Api, root: HTMLElement, onPick: (filter: CountFilter) => void) {
    this.#api = api;
    this.#root = root;
    this.#onPick = onPick;
  }

  /** Reads `GET /stats` instead of counting a page of the list. */
  useStats(stats: boolean): void {
    this.#stats = stats;
  }

  /** The served tasks: shown with zero counts before they ran. */
  setTasks(tasks: string[]): void {
    this.#tasks = tasks;
  }

  /** Counts again now (once more after the current count, when one runs), then every five seconds. */
  async refresh(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#loading = true;
    try {
      do {
        this.#again = false;
        if (this.#stats) {
          const stats = await this.#api.stats();
          this.#render(stats.counts.byStatus, new Map(Object.entries(stats.counts.byTask)), stats);
        } else {
          const page = await this.#api.list({ limit: SAMPLE });
          const { total, byTask } = countViews(page.items);
          this.#render(total, byTask, page.cursor === undefined ? page.items.length : 'more');
        }
      } while (this.#again);
    } catch {
      // The list reports the server's health; the counts keep their last values.
    } finally {
      this.#loading = false;
    }
    this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  /** `source`: the stats, or how many computations were counted (`'more'` past the sample). */
  #render(
    total: Record<TaskStatus, number>,
    byTask: Map<string, Record<TaskStatus, number>>,
    source: StatsView | number | 'more',
  ): void {
    const truncated = source === 'more';
    for (const task of this.#tasks) if (!byTask.has(task)) byTask.set(task, countViews([]).total);
    const tasks = [...byTask.keys()].sort();
    const cell = (count: number, filter: CountFilter, label: string) =>
      count === 0
        ? h('td', { class: 'zero' }, '0')
        : h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'count-link',
                'aria-label': label,
                onclick: () => this.#onPick(filter),
              },
              count,
            ),
          );
    replaceChildren(
      this.#root,
      h(
        'div',
        { class: 'status-counts' },
        STATUSES.map((status) =>
          h(
            'button',
            {
              type: 'button',
              class: `count ${status}`,
              'data-status': status,
              title: `show the ${status} computations`,
              onclick: () => this.#onPick({ status, task: '' }),
            },
            h('strong', {}, `${total[status]}${truncated ? '+' : ''}`),
            h('span', {}, status),
          ),
        ),
      ),
      tasks.length === 0
        ? null
        : h(
            'details',
            { class: 'per-task', open: tasks.length <= 8 },
            h('summary', {}, `Per task (${tasks.length})`),
            h(
              'div',
              { class: 'scroll-x' },
              h(
                'table',
                { class: 'counts' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    h('th', {}, 'task'),
                    STATUSES.map((status) =>
                      h(
                        'th',
                        { title: status },
                        h('span', { class: `dot ${status}` }),
                        h('span', { class: 'label' }, status),
                      ),
                    ),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  tasks.map((task) =>
                    h(
                      'tr',
                      { 'data-task': task },
                      h('th', { scope: 'row' }, task),
                      STATUSES.map((status) =>
                        cell(byTask.get(task)![status], { status, task }, `${task} ${status}`),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
      typeof source === 'object'
        ? recentLine(source)
        : h(
            'p',
            { class: 'muted small' },
            truncated
              ? `Counted over the newest ${SAMPLE} computations (there are more).`
              : `All ${source} computations in the store.`,
          ),
    );
  }
}

/** What the server ran over the stats window: `Last 5 min: 12 ended (0.04/s), 92% succeeded, …`. */
function recentLine(stats: StatsView): HTMLElement {
  const recent = stats.recent;
  if (recent === null) return h('p', { class: 'muted small recent' }, 'Live counts of the store.');
  const ended = recent.completed + recent.failed + recent.cancelled;
  const parts = [
    `${ended} ended (${recent.throughput < 10 ? recent.throughput.toFixed(2) : Math.round(recent.throughput)}/s)`,
  ];
  if (recent.successRate !== null) parts.push(`${Math.round(recent.successRate * 100)}% succeeded`);
  if (recent.duration !== null) {
    parts.push(`run time p50 ${duration(recent.duration.p50)}, p90 ${duration(recent.duration.p90)}`);
  }
  if (recent.queueWait !== null) {
    parts.push(`queue wait p50 ${duration(recent.queueWait.p50)}, p90 ${duration(recent.queueWait.p90)}`);
  }
  return h(
    'p',
    { class: 'muted small recent', title: 'live counts of the store; the rest is what this server ran' },
    `Last ${duration(recent.window, true)}: ${parts.join(' · ')}.`,
  );
}
