import type { Api } from './api';
import { h, replaceChildren } from './dom';
import { age, progressBar, statusBadge } from './format';
import { isActive, STATUSES, type TaskStatus, type TaskView } from './types';

const PAGE_SIZE = 20;
const POLL_MS = 2000;
/** Live streams for list rows; browsers allow 6 connections per server over HTTP/1.1. */
const MAX_STREAMS = 3;

/**
 * The list of computations: filters by status and task, pages through cursors,
 * refreshes itself, and follows up to three active rows through their event streams
 * so their progress moves as it happens.
 */
export class ListView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onHealth: (error: unknown) => void;
  readonly #toolbar: HTMLElement;
  readonly #body: HTMLElement;
  #status: TaskStatus | '' = '';
  #task = '';
  #cursors: string[] = [];
  #cursor: string | undefined;
  #next: string | undefined;
  #items: TaskView[] = [];
  #selected: string | undefined;
  #tasks: string[] = [];
  readonly #streams = new Map<string, AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #loading = false;

  /** `onHealth` is called after each refresh: with the error when it failed, else `undefined`. */
  constructor(api: Api, root: HTMLElement, onHealth: (error: unknown) => void) {
    this.#api = api;
    this.#root = root;
    this.#onHealth = onHealth;
    this.#toolbar = h('div', { class: 'toolbar' });
    this.#body = h('div', { class: 'list-body' });
    root.replaceChildren(this.#toolbar, this.#body);
    this.#renderToolbar();
  }

  setTasks(tasks: string[]): void {
    this.#tasks = tasks;
    this.#renderToolbar();
  }

  select(taskId: string | undefined): void {
    this.#selected = taskId;
    for (const row of this.#root.querySelectorAll<HTMLElement>('tr[data-id]')) {
      row.classList.toggle('selected', row.dataset.id === taskId);
    }
  }

  /** A view that changed elsewhere (detail stream, a submit): update its row. */
  update(view: TaskView): void {
    const index = this.#items.findIndex((item) => item.taskId === view.taskId);
    if (index === -1) return;
    this.#items[index] = view;
    const row = this.#root.querySelector(`tr[data-id="${CSS.escape(view.taskId)}"]`);
    row?.replaceWith(this.#row(view));
  }

  /** Loads the current page now, then keeps refreshing it. */
  async refresh(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (!this.#loading) {
      this.#loading = true;
      try {
        const page = await this.#api.list({
          status: this.#status,
          task: this.#task,
          limit: PAGE_SIZE,
          ...(this.#cursor === undefined ? {} : { cursor: this.#cursor }),
        });
        this.#items = page.items;
        this.#next = page.cursor;
        this.#render();
        this.#follow();
        this.#onHealth(undefined);
      } catch (error) {
        this.#onHealth(error);
      } finally {
        this.#loading = false;
      }
    }
    this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  #follow(): void {
    const active = new Set(this.#items.filter((item) => isActive(item.status)).map((item) => item.taskId));
    for (const [id, controller] of this.#streams) {
      if (!active.has(id)) {
        controller.abort();
        this.#streams.delete(id);
      }
    }
    for (const id of active) {
      if (this.#streams.size >= MAX_STREAMS || this.#streams.has(id)) continue;
      const controller = new AbortController();
      this.#streams.set(id, controller);
      this.#api
        .follow(id, (view) => this.update(view), controller.signal)
        .catch(() => undefined)
        .finally(() => {
          if (this.#streams.get(id) === controller) this.#streams.delete(id);
        });
    }
  }

  #renderToolbar(): void {
    const statusSelect = h(
      'select',
      {
        name: 'status',
        'aria-label': 'status',
        onchange: (event) =>
          this.#filter({ status: (event.target as HTMLSelectElement).value as TaskStatus | '' }),
      },
      h('option', { value: '' }, 'all statuses'),
      STATUSES.map((status) => h('option', { value: status }, status)),
    );
    statusSelect.value = this.#status;
    const taskSelect = h(
      'select',
      {
        name: 'task',
        'aria-label': 'task',
        onchange: (event) => this.#filter({ task: (event.target as HTMLSelectElement).value }),
      },
      h('option', { value: '' }, 'all tasks'),
      this.#tasks.map((task) => h('option', { value: task }, task)),
    );
    taskSelect.value = this.#task;
    replaceChildren(
      this.#toolbar,
      h('h2', {}, 'Computations'),
      statusSelect,
      taskSelect,
      h('button', { type: 'button', onclick: () => void this.refresh() }, 'Refresh'),
    );
  }

  #render(): void {
    const table =
      this.#items.length === 0
        ? h(
            'p',
            { class: 'empty' },
            this.#status || this.#task
              ? 'No computations match these filters.'
              : 'No computations yet: submit one.',
          )
        : h(
            'table',
            { class: 'tasks' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'task'),
                h('th', {}, 'status'),
                h('th', { class: 'progress-column' }, 'progress'),
                h('th', {}, 'age'),
                h('th', {}, 'id'),
              ),
            ),
            h(
              'tbody',
              {},
              this.#items.map((item) => this.#row(item)),
            ),
          );
    replaceChildren(
      this.#body,
      table,
      h(
        'nav',
        { class: 'pager' },
        h(
          'button',
          {
            type: 'button',
            name: 'newer',
            disabled: this.#cursor === undefined,
            onclick: () => this.#page(-1),
          },
          '← Newer',
        ),
        h('span', {}, `page ${this.#cursors.length + 1}`),
        h(
          'button',
          { type: 'button', name: 'older', disabled: this.#next === undefined, onclick: () => this.#page(1) },
          'Older →',
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
        class: item.taskId === this.#selected ? 'selected' : undefined,
        tabindex: 0,
        onclick: () => {
          location.hash = `#/tasks/${encodeURIComponent(item.taskId)}`;
        },
        onkeydown: (event) => {
          if ((event as KeyboardEvent).key === 'Enter')
            location.hash = `#/tasks/${encodeURIComponent(item.taskId)}`;
        },
      },
      h('td', { class: 'task' }, item.task),
      h('td', {}, statusBadge(item.status)),
      h('td', {}, progressBar(item)),
      h('td', { class: 'age', title: item.createdAt }, age(item.createdAt)),
      h('td', { class: 'id' }, h('code', {}, item.taskId)),
    );
  }

  #filter(change: { status?: TaskStatus | ''; task?: string }): void {
    if (change.status !== undefined) this.#status = change.status;
    if (change.task !== undefined) this.#task = change.task;
    this.#cursors = [];
    this.#cursor = undefined;
    void this.refresh();
  }

  #page(direction: 1 | -1): void {
    if (direction === 1 && this.#next !== undefined) {
      this.#cursors.push(this.#cursor ?? '');
      this.#cursor = this.#next;
    } else if (direction === -1) {
      const previous = this.#cursors.pop();
      this.#cursor = previous === '' ? undefined : previous;
    }
    void this.refresh();
  }
}
