import { type Api, ApiError } from './api';
import { h, replaceChildren } from './dom';
import type { PausedState, TaskView } from './types';

const POLL_MS = 5000;

/**
 * Pause and resume: a control for the whole queue and one per task (the served tasks,
 * and any other task paused on the backend), from `GET /pauses`, polled every five
 * seconds and read again after each change. Tells `onChange` what is paused, so the
 * list and the detail mark pending computations of paused tasks. Hidden when the
 * server's backend cannot pause (501) or the server has no pause routes.
 */
export class PausesView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onChange: () => void;
  #state: PausedState | undefined;
  #tasks: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #message = '';
  #busy = false;

  constructor(api: Api, root: HTMLElement, onChange: () => void) {
    this.#api = api;
    this.#root = root;
    this.#onChange = onChange;
  }

  /** The served tasks: each gets a control, paused or not. */
  setTasks(tasks: string[]): void {
    this.#tasks = tasks;
    this.#render();
  }

  /** Whether `view` waits because its task, or the queue, is paused. */
  isPaused(view: TaskView): boolean {
    const state = this.#state;
    if (state === undefined || view.status !== 'pending') return false;
    return state.queue || state.tasks.includes(view.task);
  }

  /** Reads what is paused now, then every five seconds. */
  async refresh(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      this.#set(await this.#api.pauses());
    } catch (error) {
      if (error instanceof ApiError && (error.status === 501 || error.status === 404)) {
        // This backend cannot pause: no control, and nothing to poll.
        this.#set(undefined);
        return;
      }
      // Unreachable for now: keep the last state (the list reports the server's health).
    }
    this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  #set(state: PausedState | undefined): void {
    const changed = JSON.stringify(state) !== JSON.stringify(this.#state);
    this.#state = state;
    this.#render();
    if (changed) this.#onChange();
  }

  async #toggle(task: string | undefined, pause: boolean): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#message = '';
    try {
      this.#set(await (pause ? this.#api.pause(task) : this.#api.resume(task)));
    } catch (error) {
      this.#message = `could not ${pause ? 'pause' : 'resume'} ${task ?? 'the queue'}: ${(error as Error).message}`;
      this.#render();
    } finally {
      this.#busy = false;
    }
  }

  #render(): void {
    const state = this.#state;
    this.#root.hidden = state === undefined;
    if (state === undefined) {
      replaceChildren(this.#root);
      return;
    }
    const tasks = [...new Set([...this.#tasks, ...state.tasks])].sort();
    const control = (task: string | undefined, paused: boolean, label: string) =>
      h(
        'button',
        {
          type: 'button',
          class: paused ? 'primary' : undefined,
          'aria-label': `${paused ? 'resume' : 'pause'} ${label}`,
          onclick: () => void this.#toggle(task, !paused),
        },
        paused ? 'Resume' : 'Pause',
      );
    const stateBadge = (paused: boolean) =>
      h('span', { class: `badge ${paused ? 'paused' : 'running'}` }, paused ? 'paused' : 'running');
    replaceChildren(
      this.#root,
      h(
        'div',
        { class: 'pause-queue', 'data-paused': String(state.queue) },
        h('strong', {}, 'Queue'),
        stateBadge(state.queue),
        control(undefined, state.queue, 'the queue'),
        h(
          'span',
          { class: 'muted small' },
          state.queue ? 'no task starts until resumed' : 'paused work stays pending and keeps its place',
        ),
      ),
      tasks.length === 0
        ? null
        : h(
            'details',
            { class: 'pause-tasks', open: state.tasks.length > 0 || tasks.length <= 8 },
            h('summary', {}, `Tasks${state.tasks.length === 0 ? '' : ` (${state.tasks.length} paused)`}`),
            h(
              'table',
              { class: 'pauses' },
              h(
                'tbody',
                {},
                tasks.map((task) => {
                  const paused = state.tasks.includes(task);
                  return h(
                    'tr',
                    { 'data-task': task, 'data-paused': String(paused) },
                    h('th', { scope: 'row' }, task),
                    h('td', {}, stateBadge(paused)),
                    h('td', {}, control(task, paused, task)),
                  );
                }),
              ),
            ),
          ),
      this.#message === '' ? null : h('p', { class: 'error-text small', role: 'alert' }, this.#message),
    );
  }
}
