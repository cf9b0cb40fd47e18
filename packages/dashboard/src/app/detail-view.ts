import { type Api, ApiError } from './api';
import { h, replaceChildren } from './dom';
import {
  json,
  maybeDuration,
  pausedBadge,
  progressBar,
  queueWait,
  runDuration,
  statusBadge,
  timeElement,
} from './format';
import { LogsPanel } from './logs-panel';
import { isActive, type Outcome, type TaskView } from './types';

/** Routes of the API the detail uses when the server has them. */
export interface DetailFeatures {
  /** `GET /tasks/{id}/logs` */
  logs: boolean;
  /** `POST /tasks/{id}/retry` */
  retry: boolean;
}

/**
 * One computation: status, progress, attempts, timestamps, queue wait and run time,
 * its input (unless its task hides it), its result or error with the remote stack
 * (when the server exposes stacks), cancel and delete buttons. Follows the
 * computation's event stream while it runs.
 */
export class DetailView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onChange: (view: TaskView) => void;
  readonly #onDeleted: (taskId: string) => void;
  /** The input, read once per computation (event views do not carry it). */
  #input: { value: unknown } | { hidden: true } | undefined;
  #controller: AbortController | undefined;
  #features: DetailFeatures = { logs: false, retry: false };
  #logs: LogsPanel | undefined;
  #taskId: string | undefined;
  /** Whether a computation waits because its task (or the queue) is paused. */
  #isPaused: (view: TaskView) => boolean = () => false;

  constructor(
    api: Api,
    root: HTMLElement,
    onChange: (view: TaskView) => void,
    onDeleted: (taskId: string) => void,
  ) {
    this.#api = api;
    this.#root = root;
    this.#onChange = onChange;
    this.#onDeleted = onDeleted;
  }

  setFeatures(features: DetailFeatures): void {
    this.#features = features;
  }

  /** What is paused changed; the shown computation's badge follows at its next render. */
  setPaused(isPaused: (view: TaskView) => boolean): void {
    this.#isPaused = isPaused;
  }

  /** The computation shown, if any. */
  get taskId(): string | undefined {
    return this.#taskId;
  }

  close(): void {
    this.#controller?.abort();
    this.#controller = undefined;
    this.#taskId = undefined;
    this.#input = undefined;
    this.#logs?.close();
    this.#logs = undefined;
    this.#root.hidden = true;
    replaceChildren(this.#root);
  }

  async show(taskId: string): Promise<void> {
    this.close();
    this.#taskId = taskId;
    const controller = new AbortController();
    this.#controller = controller;
    this.#root.hidden = false;
    replaceChildren(this.#root, h('p', { class: 'empty' }, 'Loading…'));
    let view: TaskView;
    try {
      view = await this.#api.get(taskId);
    } catch (error) {
      if (controller.signal.aborted) return;
      replaceChildren(
        this.#root,
        this.#header(taskId, undefined),
        h(
          'p',
          { class: 'error-text' },
          error instanceof ApiError && error.status === 404
            ? `No computation "${taskId}": it never existed here, or it has expired.`
            : String((error as Error).message),
        ),
      );
      return;
    }
    if (this.#features.logs) this.#logs = new LogsPanel(this.#api, taskId);
    if (view.inputHidden) this.#input = { hidden: true };
    else if ('input' in view) this.#input = { value: view.input };
    await this.#render(view, controller.signal);
    if (isActive(view.status)) {
      this.#api
        .follow(
          taskId,
          (next) => {
            this.#onChange(next);
            void this.#render(next, controller.signal);
          },
          controller.signal,
        )
        .catch(() => undefined);
    }
  }

  async #render(view: TaskView, signal: AbortSignal): Promise<void> {
    let outcome: Outcome | undefined;
    if (!isActive(view.status)) outcome = await this.#api.result(view.taskId).catch(() => undefined);
    if (signal.aborted || this.#taskId !== view.taskId) return;
    const input = this.#input;
    const rows: [string, Node | string][] = [
      ['id', h('code', {}, view.taskId)],
      ['task', view.task],
      ['status', h('span', {}, statusBadge(view.status), this.#isPaused(view) ? pausedBadge() : null)],
      ['attempt', `${view.attempt} of ${view.maxAttempts}`],
      ['created', timeElement(view.createdAt, { absolute: true })],
      ['started', timeElement(view.startedAt, { absolute: true })],
      ['finished', timeElement(view.finishedAt, { absolute: true })],
      ['queue wait', maybeDuration(queueWait(view))],
      ['ran', maybeDuration(runDuration(view))],
    ];
    if (view.expiresAt !== undefined) rows.push(['expires', timeElement(view.expiresAt, { absolute: true })]);
    if (view.priority !== undefined && view.priority !== 0) rows.push(['priority', String(view.priority)]);
    if (view.tags !== undefined && view.tags.length > 0) {
      rows.push([
        'tags',
        h(
          'span',
          { class: 'tags' },
          view.tags.map((tag) => h('a', { class: 'tag', href: `#/?tag=${encodeURIComponent(tag)}` }, tag)),
        ),
      ]);
    }
    const error = outcome !== undefined && 'error' in outcome ? outcome.error : view.error;
    replaceChildren(
      this.#root,
      this.#header(view.taskId, view),
      isActive(view.status) || view.status === 'completed' || view.progress !== undefined
        ? progressBar(view)
        : null,
      view.progress === undefined ? null : h('pre', { class: 'progress-value' }, json(view.progress)),
      h(
        'dl',
        { class: 'facts' },
        rows.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
      ),
      h('h3', {}, 'Input'),
      input === undefined
        ? h('p', { class: 'muted' }, 'No input.')
        : 'hidden' in input
          ? h(
              'p',
              { class: 'muted input-hidden' },
              'Hidden: the task is defined with hideInput (its input may hold secrets), or the server does not expose inputs.',
            )
          : h('pre', { class: 'input' }, json(input.value)),
      outcome?.status === 'completed'
        ? [h('h3', {}, 'Result'), h('pre', { class: 'result' }, json(outcome.result))]
        : null,
      error === undefined
        ? null
        : [
            h('h3', {}, view.status === 'cancelled' ? 'Cancelled' : 'Error'),
            h(
              'div',
              { class: 'error-box' },
              h('strong', {}, `${error.code}`),
              ` ${error.name}: ${error.message}`,
            ),
            error.stack === undefined
              ? view.status === 'failed'
                ? h(
                    'p',
                    { class: 'muted' },
                    'No stack: the server does not expose stacks (AU_EXPOSE_STACKS=true shows them).',
                  )
                : null
              : h(
                  'details',
                  { class: 'stack', open: true },
                  h('summary', {}, 'Remote stack'),
                  h('pre', {}, error.stack),
                ),
          ],
      view.history === undefined || view.history.length === 0
        ? null
        : [
            h('h3', {}, `Earlier attempts (${view.history.length})`),
            h(
              'ol',
              { class: 'history' },
              view.history.map((attempt) =>
                h(
                  'li',
                  { 'data-status': attempt.status },
                  h('strong', {}, `#${attempt.attempt}`),
                  ' ',
                  statusBadge(attempt.status),
                  ' ',
                  attempt.error === undefined ? '' : `${attempt.error.code}: ${attempt.error.message} `,
                  timeElement(attempt.finishedAt),
                ),
              ),
            ),
          ],
      this.#logs?.element,
    );
    this.#logs?.setActive(isActive(view.status));
  }

  #header(taskId: string, view: TaskView | undefined): HTMLElement {
    const cancel = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        name: 'cancel',
        disabled: view === undefined || !isActive(view.status),
        onclick: async (event) => {
          const button = event.currentTarget as HTMLButtonElement;
          button.disabled = true;
          button.textContent = 'Cancelling…';
          try {
            await this.#api.cancel(taskId);
            const next = await this.#api.get(taskId);
            this.#onChange(next);
            await this.#render(next, this.#controller?.signal ?? new AbortController().signal);
          } catch (error) {
            button.textContent = `Cancel failed: ${(error as Error).message}`;
          }
        },
      },
      'Cancel',
    );
    const retry =
      this.#features.retry && view !== undefined && (view.status === 'failed' || view.status === 'cancelled')
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary',
              name: 'retry',
              title: 'run it again under the same id, keeping its attempt history',
              onclick: async (event) => {
                const button = event.currentTarget as HTMLButtonElement;
                button.disabled = true;
                button.textContent = 'Retrying…';
                try {
                  await this.#api.retry(taskId);
                  const next = await this.#api.get(taskId);
                  this.#onChange(next);
                  await this.show(taskId);
                } catch (error) {
                  button.disabled = false;
                  button.textContent = `Retry failed: ${(error as Error).message}`;
                }
              },
            },
            'Retry',
          )
        : null;
    const remove = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        name: 'delete',
        disabled: view === undefined,
        title: 'delete this computation (cancelled first when still active)',
        onclick: async (event) => {
          const button = event.currentTarget as HTMLButtonElement;
          if (button.dataset.armed !== 'true') {
            button.dataset.armed = 'true';
            button.textContent = 'Delete? Confirm';
            setTimeout(() => {
              if (button.isConnected && button.dataset.armed === 'true') {
                button.dataset.armed = 'false';
                button.textContent = 'Delete';
              }
            }, 5000);
            return;
          }
          button.disabled = true;
          button.textContent = 'Deleting…';
          try {
            await this.#api.remove(taskId);
            this.#onDeleted(taskId);
            location.hash = '#/';
          } catch (error) {
            button.disabled = false;
            button.dataset.armed = 'false';
            button.textContent = `Delete failed: ${(error as Error).message}`;
          }
        },
      },
      'Delete',
    );
    return h(
      'div',
      { class: 'detail-header' },
      h('h2', {}, view === undefined ? 'Computation' : view.task),
      retry,
      cancel,
      remove,
      h('a', { href: '#/', class: 'close', title: 'close', 'aria-label': 'close' }, '×'),
    );
  }
}
