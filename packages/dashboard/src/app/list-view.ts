import { type Api, ApiError } from './api';
import { describeBulk, runBulk } from './bulk';
import { h, replaceChildren } from './dom';
import {
  maybeDuration,
  pausedBadge,
  progressBar,
  queueWait,
  runDuration,
  statusBadge,
  timeElement,
} from './format';
import { selectAllCell } from './select-all-cell';
import { isActive, STATUSES, type TaskStatus, type TaskView } from './types';

const PAGE_SIZE = 20;
const POLL_MS = 2000;
/** The refresh while `GET /events` brings the changes: a safety net only. */
const FEED_POLL_MS = 15_000;
/** Live streams for list rows; browsers allow 6 connections per server over HTTP/1.1. */
const MAX_STREAMS = 3;
/** How long an armed "Delete" waits for its confirming click. */
const CONFIRM_MS = 5000;

export interface ListFilter {
  status?: TaskStatus | '';
  task?: string;
  tag?: string;
}

/**
 * The list of computations: filters by status, task and tag, a search box (an id opens
 * it, anything else filters by tag), checkboxes with bulk cancel and delete, cursor
 * paging. Live: from the server-wide event stream (`GET /events`) when the server has
 * one, else a refresh every two seconds and up to three active rows followed through
 * their own event streams, so their progress moves as it happens.
 */
export class ListView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onHealth: (error: unknown) => void;
  readonly #onChanged: () => void;
  readonly #onStatusChange: () => void;
  /** The status of each row last seen, to tell when one changed. */
  readonly #statuses = new Map<string, TaskStatus>();
  readonly #toolbar: HTMLElement;
  readonly #bulkBar: HTMLElement;
  readonly #body: HTMLElement;
  #status: TaskStatus | '' = '';
  #task = '';
  #tag = '';
  #cursors: string[] = [];
  #cursor: string | undefined;
  #next: string | undefined;
  #items: TaskView[] = [];
  #selected: string | undefined;
  readonly #checked = new Set<string>();
  #tasks: string[] = [];
  #message = '';
  #armed: ReturnType<typeof setTimeout> | undefined;
  #busy = false;
  /** The server has `POST /tasks/{id}/retry`. */
  #retry = false;
  readonly #streams = new Map<string, AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #loading = false;
  /** True while the server-wide event stream is connected: no polling, no row streams. */
  #feed = false;
  #soon: ReturnType<typeof setTimeout> | undefined;
  /** A refresh was asked for while one was loading. */
  #again = false;
  /** Whether a computation waits because its task (or the queue) is paused. */
  #isPaused: (view: TaskView) => boolean = () => false;

  /**
   * `onHealth` is called after each refresh: with the error when it failed, else
   * `undefined`. `onChanged` after a bulk action changed computations, `onStatusChange`
   * when a row's status changed (a stream or a refresh saw it).
   */
  constructor(
    api: Api,
    root: HTMLElement,
    callbacks: { onHealth: (error: unknown) => void; onChanged: () => void; onStatusChange: () => void },
  ) {
    this.#api = api;
    this.#root = root;
    this.#onHealth = callbacks.onHealth;
    this.#onChanged = callbacks.onChanged;
    this.#onStatusChange = callbacks.onStatusChange;
    this.#toolbar = h('div', { class: 'toolbar' });
    this.#bulkBar = h('div', { class: 'bulk-bar', role: 'region', 'aria-label': 'bulk actions' });
    this.#body = h('div', { class: 'list-body' });
    root.replaceChildren(this.#toolbar, this.#bulkBar, this.#body);
    this.#renderToolbar();
    this.#renderBulkBar();
  }

  /** Offers "Retry N" for selected failed or cancelled computations. */
  setRetry(retry: boolean): void {
    this.#retry = retry;
    this.#renderBulkBar();
  }

  setTasks(tasks: string[]): void {
    this.#tasks = tasks;
    this.#renderToolbar();
  }

  /** What is paused changed: rows of pending computations get or lose their "paused" badge. */
  setPaused(isPaused: (view: TaskView) => boolean): void {
    this.#isPaused = isPaused;
    for (const item of this.#items) {
      const row = this.#root.querySelector(`tr[data-id="${CSS.escape(item.taskId)}"]`);
      row?.replaceWith(this.#row(item));
    }
  }

  select(taskId: string | undefined): void {
    this.#selected = taskId;
    for (const row of this.#root.querySelectorAll<HTMLElement>('tr[data-id]')) {
      row.classList.toggle('selected', row.dataset.id === taskId);
    }
  }

  /** A view that changed elsewhere (detail stream, a submit): update its row. */
  update(view: TaskView): void {
    this.#noticeStatuses([view]);
    const index = this.#items.findIndex((item) => item.taskId === view.taskId);
    if (index === -1) return;
    this.#items[index] = view;
    const row = this.#root.querySelector(`tr[data-id="${CSS.escape(view.taskId)}"]`);
    row?.replaceWith(this.#row(view));
  }

  /**
   * The server-wide event stream (`GET /events`) is connected or not. While it is, rows
   * are updated from it, a new computation refreshes the page, and the list polls only
   * every fifteen seconds.
   */
  setFeed(live: boolean): void {
    if (live === this.#feed) return;
    this.#feed = live;
    if (live) for (const controller of this.#streams.values()) controller.abort();
    this.#streams.clear();
    void this.refresh();
  }

  /** A change from the server-wide stream. */
  changed(view: TaskView): void {
    const known = this.#items.some((item) => item.taskId === view.taskId);
    if (known) {
      this.update(view);
      if (!this.#matches(view)) this.#refreshSoon();
      return;
    }
    this.#noticeStatuses([view]);
    // A new or newly matching computation belongs on the first page.
    if (this.#cursor === undefined && this.#matches(view)) this.#refreshSoon();
  }

  #matches(view: TaskView): boolean {
    return (
      (this.#status === '' || view.status === this.#status) &&
      (this.#task === '' || view.task === this.#task) &&
      (this.#tag === '' || (view.tags ?? []).includes(this.#tag))
    );
  }

  /** One refresh for a burst of changes. */
  #refreshSoon(): void {
    if (this.#soon !== undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.refresh();
    }, 250);
  }

  /** A computation deleted elsewhere (the detail view): drop its row. */
  removed(taskId: string): void {
    this.#checked.delete(taskId);
    this.#items = this.#items.filter((item) => item.taskId !== taskId);
    this.#render();
  }

  /** Shows the computations matching `filter` (other filters kept), from the first page. */
  filter(change: ListFilter): void {
    if (change.status !== undefined) this.#status = change.status;
    if (change.task !== undefined) this.#task = change.task;
    if (change.tag !== undefined) this.#tag = change.tag;
    this.#cursors = [];
    this.#cursor = undefined;
    this.#checked.clear();
    this.#renderToolbar();
    this.#renderBulkBar();
    void this.refresh();
  }

  /** Loads the current page now, then keeps refreshing it. */
  async refresh(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#loading) {
      // A load is under way, maybe with the filters or page before this call: its answer
      // is dropped and the page loaded again when it ends.
      this.#again = true;
      return;
    }
    this.#loading = true;
    this.#again = false;
    try {
      const page = await this.#api.list({
        status: this.#status,
        task: this.#task,
        tag: this.#tag,
        limit: PAGE_SIZE,
        ...(this.#cursor === undefined ? {} : { cursor: this.#cursor }),
      });
      if (!this.#again) {
        this.#items = page.items;
        this.#next = page.cursor;
        this.#noticeStatuses(page.items);
        this.#render();
        this.#follow();
        this.#onHealth(undefined);
      }
    } catch (error) {
      if (!this.#again) this.#onHealth(error);
    } finally {
      this.#loading = false;
    }
    if (this.#again) return this.refresh();
    this.#timer = setTimeout(() => void this.refresh(), this.#feed ? FEED_POLL_MS : POLL_MS);
  }

  #noticeStatuses(views: TaskView[]): void {
    // A new computation or a new status changes the counts; the first page read does not.
    const first = this.#statuses.size === 0;
    let changed = false;
    for (const view of views) {
      if (this.#statuses.get(view.taskId) !== view.status && !first) changed = true;
      this.#statuses.set(view.taskId, view.status);
    }
    if (this.#statuses.size > 1000) this.#statuses.clear();
    if (changed) this.#onStatusChange();
  }

  #follow(): void {
    if (this.#feed) return;
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
          this.filter({ status: (event.target as HTMLSelectElement).value as TaskStatus | '' }),
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
        onchange: (event) => this.filter({ task: (event.target as HTMLSelectElement).value }),
      },
      h('option', { value: '' }, 'all tasks'),
      [...new Set([...this.#tasks, ...(this.#task ? [this.#task] : [])])].map((task) =>
        h('option', { value: task }, task),
      ),
    );
    taskSelect.value = this.#task;
    const search = h('input', {
      type: 'search',
      name: 'search',
      placeholder: 'id or tag',
      'aria-label': 'search by id or tag',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    const searchMessage = h('span', { class: 'search-message', role: 'status' });
    const form = h(
      'form',
      {
        class: 'search',
        role: 'search',
        onsubmit: (event) => {
          event.preventDefault();
          void this.#search(search.value.trim(), searchMessage);
        },
      },
      search,
      h('button', { type: 'submit' }, 'Search'),
    );
    replaceChildren(
      this.#toolbar,
      h('h2', {}, 'Computations'),
      h(
        'div',
        { class: 'filters' },
        statusSelect,
        taskSelect,
        form,
        this.#tag
          ? h(
              'span',
              { class: 'chip', 'data-tag': this.#tag },
              `tag: ${this.#tag}`,
              h(
                'button',
                {
                  type: 'button',
                  class: 'chip-close',
                  'aria-label': `stop filtering by tag ${this.#tag}`,
                  onclick: () => this.filter({ tag: '' }),
                },
                '×',
              ),
            )
          : null,
        h('button', { type: 'button', name: 'refresh', onclick: () => void this.refresh() }, 'Refresh'),
        searchMessage,
      ),
    );
  }

  /** `tag:x` filters by tag; anything else opens the computation of that id, else filters by tag. */
  async #search(text: string, message: HTMLElement): Promise<void> {
    message.textContent = '';
    if (text === '') return this.filter({ tag: '' });
    if (text.startsWith('tag:')) return this.filter({ tag: text.slice(4).trim() });
    if (/^[A-Za-z0-9_.:-]{1,200}$/.test(text)) {
      try {
        await this.#api.get(text);
        location.hash = `#/tasks/${encodeURIComponent(text)}`;
        return;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) {
          message.textContent = (error as Error).message;
          return;
        }
      }
    }
    this.filter({ tag: text });
    message.textContent = `no computation has the id "${text}": showing the tag instead`;
  }

  #renderBulkBar(): void {
    const ids = [...this.#checked];
    this.#bulkBar.hidden = ids.length === 0 && this.#message === '';
    const cancellable = this.#items.filter((item) => this.#checked.has(item.taskId) && isActive(item.status));
    const retryable = this.#items.filter(
      (item) => this.#checked.has(item.taskId) && (item.status === 'failed' || item.status === 'cancelled'),
    );
    replaceChildren(
      this.#bulkBar,
      ids.length === 0 ? null : h('strong', { class: 'selected-count' }, `${ids.length} selected`),
      ids.length === 0
        ? null
        : [
            this.#retry
              ? h(
                  'button',
                  {
                    type: 'button',
                    name: 'bulk-retry',
                    class: 'primary',
                    disabled: this.#busy || retryable.length === 0,
                    title: 'run the selected failed or cancelled computations again, under the same ids',
                    onclick: () =>
                      void this.#bulk(
                        'Retried',
                        retryable.map((item) => item.taskId),
                        (id) => this.#api.retry(id),
                      ),
                  },
                  `Retry ${retryable.length}`,
                )
              : null,
            h(
              'button',
              {
                type: 'button',
                name: 'bulk-cancel',
                class: 'danger',
                disabled: this.#busy || cancellable.length === 0,
                title: 'cancel the selected computations that are still pending or running',
                onclick: () =>
                  void this.#bulk(
                    'Cancelled',
                    cancellable.map((item) => item.taskId),
                    (id) => this.#api.cancel(id),
                  ),
              },
              `Cancel ${cancellable.length}`,
            ),
            h(
              'button',
              {
                type: 'button',
                name: 'bulk-delete',
                class: 'danger',
                disabled: this.#busy,
                title: 'delete the selected computations (active ones are cancelled first)',
                onclick: (event) => this.#armDelete(event.currentTarget as HTMLButtonElement, ids),
              },
              `Delete ${ids.length}`,
            ),
            h(
              'button',
              {
                type: 'button',
                name: 'bulk-clear',
                class: 'link',
                onclick: () => {
                  this.#checked.clear();
                  this.#render();
                },
              },
              'Clear selection',
            ),
          ],
      this.#message === '' ? null : h('span', { class: 'bulk-message', role: 'status' }, this.#message),
    );
  }

  /** The first click arms the button; a second one within five seconds deletes. */
  #armDelete(button: HTMLButtonElement, ids: string[]): void {
    if (button.dataset.armed === 'true') {
      if (this.#armed !== undefined) clearTimeout(this.#armed);
      void this.#bulk('Deleted', ids, (id) => this.#api.remove(id));
      return;
    }
    button.dataset.armed = 'true';
    button.textContent = `Delete ${ids.length}? Click to confirm`;
    this.#armed = setTimeout(() => {
      button.dataset.armed = 'false';
      button.textContent = `Delete ${ids.length}`;
    }, CONFIRM_MS);
  }

  async #bulk(verb: string, ids: string[], action: (id: string) => Promise<unknown>): Promise<void> {
    this.#busy = true;
    this.#message = `${verb.replace(/ed$/, 'ing')} ${ids.length}…`;
    this.#renderBulkBar();
    const outcome = await runBulk(ids, action);
    this.#busy = false;
    this.#message = describeBulk(verb, outcome);
    if (verb === 'Deleted') for (const id of ids) this.#checked.delete(id);
    this.#renderBulkBar();
    this.#onChanged();
    await this.refresh();
  }

  #render(): void {
    const visible = new Set(this.#items.map((item) => item.taskId));
    for (const id of this.#checked) if (!visible.has(id)) this.#checked.delete(id);
    const filtered = this.#status || this.#task || this.#tag;
    const table =
      this.#items.length === 0
        ? h(
            'p',
            { class: 'empty' },
            filtered ? 'No computations match these filters.' : 'No computations yet: submit one.',
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
                selectAllCell(this.#items, this.#checked, () => this.#render()),
                h('th', {}, 'task'),
                h('th', {}, 'status'),
                h('th', { class: 'progress-column' }, 'progress'),
                h('th', {}, 'created'),
                h('th', { title: 'time in the queue before its (latest) start' }, 'wait'),
                h('th', { title: 'time its (latest) attempt ran' }, 'ran'),
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
    this.#renderBulkBar();
  }

  #row(item: TaskView): HTMLElement {
    const open = () => {
      location.hash = `#/tasks/${encodeURIComponent(item.taskId)}`;
    };
    return h(
      'tr',
      {
        'data-id': item.taskId,
        'data-status': item.status,
        class: item.taskId === this.#selected ? 'selected' : undefined,
        tabindex: 0,
        onclick: open,
        onkeydown: (event) => {
          if ((event as KeyboardEvent).key === 'Enter' && event.target === event.currentTarget) open();
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
      h(
        'td',
        { class: 'task', 'data-label': 'task' },
        item.task,
        (item.tags ?? []).map((tag) => h('span', { class: 'tag' }, tag)),
      ),
      h(
        'td',
        { class: 'status', 'data-label': 'status' },
        statusBadge(item.status),
        this.#isPaused(item) ? pausedBadge() : null,
      ),
      h(
        'td',
        { class: 'progress', 'data-label': 'progress' },
        isActive(item.status) || item.status === 'completed' || item.progress !== undefined
          ? progressBar(item)
          : null,
      ),
      h('td', { class: 'created', 'data-label': 'created' }, timeElement(item.createdAt)),
      h('td', { class: 'wait', 'data-label': 'wait' }, maybeDuration(queueWait(item))),
      h('td', { class: 'ran', 'data-label': 'ran' }, maybeDuration(runDuration(item))),
      h('td', { class: 'id', 'data-label': 'id' }, h('code', { title: item.taskId }, item.taskId)),
    );
  }

  #page(direction: 1 | -1): void {
    if (direction === 1 && this.#next !== undefined) {
      this.#cursors.push(this.#cursor ?? '');
      this.#cursor = this.#next;
    } else if (direction === -1) {
      const previous = this.#cursors.pop();
      this.#cursor = previous === '' ? undefined : previous;
    }
    this.#checked.clear();
    void this.refresh();
  }
}
