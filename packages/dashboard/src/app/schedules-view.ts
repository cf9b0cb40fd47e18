import type { Api } from './api';
import { h, replaceChildren } from './dom';
import { duration, json, timeElement } from './format';
import type { ScheduleView } from './types';

const POLL_MS = 5000;

/**
 * The schedules (`GET /schedules`): what each runs and when (cron or interval, next and
 * last run, the last run's computation), paused or not, and Pause / Resume / Delete.
 */
export class SchedulesView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #open = false;
  #message = '';

  constructor(api: Api, root: HTMLElement) {
    this.#api = api;
    this.#root = root;
  }

  open(): void {
    this.#open = true;
    void this.refresh();
  }

  close(): void {
    this.#open = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  async refresh(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      const { items } = await this.#api.schedules();
      this.#render(items);
    } catch (error) {
      replaceChildren(
        this.#root,
        h('h2', {}, 'Schedules'),
        h('p', { class: 'error-text' }, (error as Error).message),
      );
    }
    if (this.#open) this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  #render(items: ScheduleView[]): void {
    replaceChildren(
      this.#root,
      h(
        'div',
        { class: 'toolbar' },
        h('h2', {}, `Schedules (${items.length})`),
        h('button', { type: 'button', name: 'refresh', onclick: () => void this.refresh() }, 'Refresh'),
      ),
      this.#message === '' ? null : h('p', { class: 'bulk-message', role: 'status' }, this.#message),
      items.length === 0
        ? h('p', { class: 'empty' }, 'No schedules: create one with POST /schedules.')
        : h(
            'table',
            { class: 'schedules' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['schedule', 'task', 'when', 'next run', 'last run', 'state', ''].map((name) =>
                  h('th', {}, name),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              items.map((item) => this.#row(item)),
            ),
          ),
    );
  }

  #row(item: ScheduleView): HTMLElement {
    const when =
      item.cron !== undefined
        ? `${item.cron}${item.timezone ? ` (${item.timezone})` : ''}`
        : item.every !== undefined
          ? `every ${duration(item.every)}`
          : '—';
    return h(
      'tr',
      { 'data-schedule': item.id, 'data-paused': String(item.paused) },
      h(
        'td',
        { class: 'name', 'data-label': 'schedule' },
        item.id,
        item.input === undefined
          ? item.inputHidden
            ? h('span', { class: 'tag', title: 'the task hides its input (hideInput)' }, 'input hidden')
            : null
          : h(
              'code',
              { class: 'tag schedule-input', title: json(item.input) },
              json(item.input).replace(/\s+/g, ' '),
            ),
      ),
      h('td', { class: 'task', 'data-label': 'task' }, item.task),
      h('td', { class: 'when', 'data-label': 'when' }, h('code', {}, when)),
      h(
        'td',
        { class: 'next', 'data-label': 'next run' },
        item.paused ? h('span', { class: 'muted' }, 'paused') : timeElement(item.nextRunAt),
      ),
      h(
        'td',
        { class: 'last', 'data-label': 'last run' },
        item.lastRunAt === undefined
          ? h('span', { class: 'muted' }, 'never')
          : item.lastTaskId === undefined
            ? timeElement(item.lastRunAt)
            : h('a', { href: `#/tasks/${encodeURIComponent(item.lastTaskId)}` }, timeElement(item.lastRunAt)),
        item.skipped > 0 ? h('span', { class: 'muted' }, ` (${item.skipped} skipped)`) : null,
      ),
      h(
        'td',
        { class: 'state', 'data-label': 'state' },
        h(
          'span',
          { class: `badge ${item.paused ? 'cancelled' : 'completed'}` },
          item.paused ? 'paused' : 'active',
        ),
      ),
      h(
        'td',
        { class: 'actions-cell' },
        h(
          'button',
          {
            type: 'button',
            name: item.paused ? 'resume' : 'pause',
            onclick: () =>
              void this.#act(`${item.paused ? 'Resumed' : 'Paused'} ${item.id}.`, () =>
                item.paused ? this.#api.resumeSchedule(item.id) : this.#api.pauseSchedule(item.id),
              ),
          },
          item.paused ? 'Resume' : 'Pause',
        ),
        h(
          'button',
          {
            type: 'button',
            name: 'delete',
            class: 'danger',
            onclick: (event) => {
              const button = event.currentTarget as HTMLButtonElement;
              if (button.dataset.armed !== 'true') {
                button.dataset.armed = 'true';
                button.textContent = 'Delete? Confirm';
                return;
              }
              void this.#act(`Deleted ${item.id}.`, () => this.#api.deleteSchedule(item.id));
            },
          },
          'Delete',
        ),
      ),
    );
  }

  async #act(done: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      this.#message = done;
    } catch (error) {
      this.#message = (error as Error).message;
    }
    await this.refresh();
  }
}
