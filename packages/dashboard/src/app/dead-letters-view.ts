import type { Api } from './api';
import { describeBulk, runBulk } from './bulk';
import { h, replaceChildren } from './dom';
import { timeElement } from './format';
import { selectAllCell } from './select-all-cell';
import type { TaskView } from './types';

const PAGE_SIZE = 50;
const POLL_MS = 5000;
const CONFIRM_MS = 5000;

/**
 * The dead letters (`GET /dead-letters`): computations that failed for good. Filter by
 * task; retry the selected ones, redrive them all (`POST /tasks/redrive`), or purge them
 * (`DELETE /dead-letters`, confirmed by a second click). `onCount` gets the count for the
 * tab's badge.
 */
export class DeadLettersView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onCount: (count: number) => void;
  readonly #checked = new Set<string>();
  #task = '';
  #tasks: string[] = [];
  #items: TaskView[] = [];
  #count = 0;
  #message = '';
  #busy = false;
  #open = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(api: Api, root: HTMLElement, onCount: (count: number) => void) {
    this.#api = api;
    this.#root = root;
    this.#onCount = onCount;
  }

  setTasks(tasks: string[]): void {
    this.#tasks = tasks;
  }

  open(): void {
    this.#open = true;
    void this.refresh();
  }

  close(): void {
    this.#open = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** Reads the count (and the page, when open); polls while open. */
  async refresh(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      const filter = this.#task === '' ? {} : { task: this.#task };
      const [count, all] = await Promise.all([
        this.#api.deadLetterCount(filter),
        this.#task === '' ? undefined : this.#api.deadLetterCount({}),
      ]);
      this.#count = count.count;
      this.#onCount(all?.count ?? count.count);
      if (this.#open) {
        this.#items = (await this.#api.deadLetters({ ...filter, limit: PAGE_SIZE })).items;
        const visible = new Set(this.#items.map((item) => item.taskId));
        for (const id of this.#checked) if (!visible.has(id)) this.#checked.delete(id);
        this.#render();
      }
    } catch (error) {
      if (this.#open) {
        replaceChildren(
          this.#root,
          h('h2', {}, 'Dead letters'),
          h('p', { class: 'error-text' }, (error as Error).message),
        );
      }
    }
    if (this.#open) this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  #render(): void {
    const taskSelect = h(
      'select',
      {
        name: 'task',
        'aria-label': 'task',
        onchange: (event) => {
          this.#task = (event.target as HTMLSelectElement).value;
          this.#checked.clear();
          void this.refresh();
        },
      },
      h('option', { value: '' }, 'all tasks'),
      this.#tasks.map((task) => h('option', { value: task }, task)),
    );
    taskSelect.value = this.#task;
    const scope = this.#task === '' ? '' : ` of ${this.#task}`;
    const selected = [...this.#checked];
    replaceChildren(
      this.#root,
      h(
        'div',
        { class: 'toolbar' },
        h('h2', {}, `Dead letters (${this.#count})`),
        h(
          'div',
          { class: 'filters' },
          taskSelect,
          h(
            'button',
            {
              type: 'button',
              name: 'redrive',
              class: 'primary',
              disabled: this.#busy || this.#count === 0,
              title: `retry every failed computation${scope}`,
              onclick: () => void this.#redrive(),
            },
            `Redrive all${scope}`,
          ),
          h(
            'button',
            {
              type: 'button',
              name: 'purge',
              class: 'danger',
              disabled: this.#busy || this.#count === 0,
              title: `delete every failed computation${scope}`,
              onclick: (event) => this.#purge(event.currentTarget as HTMLButtonElement, scope),
            },
            `Purge all${scope}`,
          ),
        ),
      ),
      h(
        'div',
        { class: 'bulk-bar', hidden: selected.length === 0 && this.#message === '' },
        selected.length === 0
          ? null
          : [
              h('strong', { class: 'selected-count' }, `${selected.length} selected`),
              h(
                'button',
                {
                  type: 'button',
                  name: 'bulk-retry',
                  class: 'primary',
                  disabled: this.#busy,
                  onclick: () => void this.#retry(selected),
                },
                `Retry ${selected.length}`,
              ),
            ],
        this.#message === '' ? null : h('span', { class: 'bulk-message', role: 'status' }, this.#message),
      ),
      this.#items.length === 0
        ? h('p', { class: 'empty' }, `No dead letters${scope}: nothing failed for good.`)
        : h(
            'table',
            { class: 'tasks dead-letters' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                selectAllCell(this.#items, this.#checked, () => this.#render()),
                h('th', {}, 'task'),
                h('th', {}, 'error'),
                h('th', {}, 'failed'),
                h('th', {}, 'attempts'),
                h('th', {}, 'id'),
              ),
            ),
            h(
              'tbody',
              {},
              this.#items.map((item) => this.#row(item)),
            ),
          ),
    );
  }

  #row(item: TaskView): HTMLElement {
    return h(
      'tr',
      {
        'data-id': item.taskId,
        'data-status': item.status,
        tabindex: 0,
        onclick: () => {
          location.hash = `#/tasks/${encodeURIComponent(item.taskId)}`;
        },
      },
      h(
        'td',
        { class: 'check', onclick: (event) => event.stopPropagation() },
        h('input', {
          type: 'checkbox',
          name: 'select',
          'aria-label': `select ${item.task} ${item.taskId}`,
          checked: this.#checked.has(item.taskId),
          onchange: (event) => {
            if ((event.target as HTMLInputElement).checked) this.#checked.add(item.taskId);
            else this.#checked.delete(item.taskId);
            this.#message = '';
            this.#render();
          },
        }),
      ),
      h('td', { class: 'task', 'data-label': 'task' }, item.task),
      h(
        'td',
        { class: 'error', 'data-label': 'error' },
        item.error === undefined ? '—' : [h('strong', {}, item.error.code), ` ${item.error.message}`],
      ),
      h('td', { class: 'created', 'data-label': 'failed' }, timeElement(item.finishedAt)),
      h('td', { class: 'wait', 'data-label': 'attempts' }, `${item.attempt} of ${item.maxAttempts}`),
      h('td', { class: 'id', 'data-label': 'id' }, h('code', { title: item.taskId }, item.taskId)),
    );
  }

  async #retry(ids: string[]): Promise<void> {
    await this.#act(async () => {
      const outcome = await runBulk(ids, (id) => this.#api.retry(id));
      for (const id of ids) this.#checked.delete(id);
      return describeBulk('Retried', outcome);
    });
  }

  async #redrive(): Promise<void> {
    await this.#act(async () => {
      const result = await this.#api.redrive(this.#task === '' ? {} : { task: this.#task });
      return `Redrove ${result.count}${result.errors.length > 0 ? `; ${result.errors.length} could not be retried (${result.errors[0]!.message})` : ''}.`;
    });
  }

  #purge(button: HTMLButtonElement, scope: string): void {
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = `Purge ${this.#count}? Click to confirm`;
      setTimeout(() => {
        if (button.isConnected && button.dataset.armed === 'true') {
          button.dataset.armed = 'false';
          button.textContent = `Purge all${scope}`;
        }
      }, CONFIRM_MS);
      return;
    }
    void this.#act(async () => {
      const result = await this.#api.purgeDeadLetters(this.#task === '' ? {} : { task: this.#task });
      this.#checked.clear();
      return `Purged ${result.purged}.`;
    });
  }

  async #act(action: () => Promise<string>): Promise<void> {
    this.#busy = true;
    this.#message = 'Working…';
    this.#render();
    try {
      this.#message = await action();
    } catch (error) {
      this.#message = (error as Error).message;
    }
    this.#busy = false;
    await this.refresh();
  }
}
