import type { Api } from './api';
import { h, replaceChildren } from './dom';
import { json, time } from './format';
import type { LogsView } from './types';

const POLL_MS = 2000;

/**
 * The lines a computation's task wrote with `ctx.log` (`GET /tasks/{id}/logs`), oldest
 * first, read again every two seconds while the computation is active. One element,
 * kept across the detail's re-renders so it does not flicker.
 */
export class LogsPanel {
  readonly element: HTMLElement;
  readonly #api: Api;
  readonly #taskId: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #active = true;

  constructor(api: Api, taskId: string) {
    this.#api = api;
    this.#taskId = taskId;
    this.element = h('section', { class: 'logs', 'aria-label': 'logs' }, h('h3', {}, 'Logs'));
    void this.#load();
  }

  /** Whether the computation may still write lines (read once more when it ends). */
  setActive(active: boolean): void {
    if (this.#active && !active) void this.#load();
    this.#active = active;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  async #load(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      this.#render(await this.#api.logs(this.#taskId));
    } catch (error) {
      replaceChildren(
        this.element,
        h('h3', {}, 'Logs'),
        h('p', { class: 'error-text' }, (error as Error).message),
      );
    }
    if (!this.#closed && this.#active) this.#timer = setTimeout(() => void this.#load(), POLL_MS);
  }

  #render(logs: LogsView): void {
    const body = this.element.querySelector('.log-lines');
    const atBottom = body === null || body.scrollTop + body.clientHeight >= body.scrollHeight - 4;
    const lines = h(
      'ol',
      { class: 'log-lines' },
      logs.lines.map((line) =>
        h(
          'li',
          { class: `log ${line.level}`, 'data-level': line.level },
          h('time', { datetime: line.time, title: line.time }, time(line.time).slice(11)),
          h('span', { class: 'level' }, line.level),
          line.attempt !== undefined && line.attempt > 1
            ? h('span', { class: 'muted' }, `#${line.attempt}`)
            : null,
          h('span', { class: 'message' }, line.message),
          line.data === undefined ? null : h('code', { class: 'data' }, json(line.data).replace(/\s+/g, ' ')),
        ),
      ),
    );
    replaceChildren(
      this.element,
      h('h3', {}, `Logs (${logs.lines.length}${logs.dropped > 0 ? `, ${logs.dropped} older dropped` : ''})`),
      logs.lines.length === 0
        ? h('p', { class: 'muted' }, 'No lines: the task wrote none with ctx.log.')
        : lines,
    );
    if (atBottom) lines.scrollTop = lines.scrollHeight;
  }
}
