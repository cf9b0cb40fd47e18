import { type Api, ApiError } from './api';
import { h, replaceChildren } from './dom';
import { launchOptionsForm } from './launch-options-form';
import { schemaForm } from './schema-form';
import type { TaskInfo } from './types';

/**
 * A form to submit any served task: pick the task, fill the fields generated from its
 * input schema and, if wanted, the launch options (tags, priority, delay, key), submit;
 * the new computation opens in the detail view.
 */
export class SubmitView {
  readonly #api: Api;
  readonly #root: HTMLElement;
  readonly #onSubmitted: (taskId: string) => void;
  #tasks: TaskInfo[] = [];

  constructor(api: Api, root: HTMLElement, onSubmitted: (taskId: string) => void) {
    this.#api = api;
    this.#root = root;
    this.#onSubmitted = onSubmitted;
  }

  setTasks(tasks: TaskInfo[]): void {
    this.#tasks = tasks;
    this.#render(tasks[0]?.name);
  }

  #render(selected: string | undefined): void {
    const task = this.#tasks.find((item) => item.name === selected);
    if (task === undefined) {
      replaceChildren(
        this.#root,
        h('h2', {}, 'Submit'),
        h('p', { class: 'empty' }, 'This server serves no tasks.'),
      );
      return;
    }
    const picker = h(
      'select',
      {
        name: 'task',
        'aria-label': 'task to submit',
        onchange: (event) => this.#render((event.target as HTMLSelectElement).value),
      },
      this.#tasks.map((item) => h('option', { value: item.name }, item.name)),
    );
    picker.value = task.name;
    const fields = schemaForm(task.schema);
    const launch = launchOptionsForm();
    const message = h('p', { class: 'form-message', role: 'status' });
    const button = h('button', { type: 'submit', class: 'primary' }, `Run ${task.name}`);
    const form = h(
      'form',
      {
        class: 'submit-form',
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          const read = fields.read();
          const options = launch.read();
          if ('error' in read || 'error' in options) {
            message.className = 'form-message error-text';
            message.textContent = 'error' in read ? read.error : 'error' in options ? options.error : '';
            return;
          }
          button.disabled = true;
          message.className = 'form-message';
          message.textContent = 'Submitting…';
          try {
            const accepted = await this.#api.submit(task.name, read.value, options.value);
            message.textContent = `Submitted ${accepted.taskId}`;
            this.#onSubmitted(accepted.taskId);
          } catch (error) {
            message.className = 'form-message error-text';
            message.textContent = describe(error);
          } finally {
            button.disabled = false;
          }
        },
      },
      h('label', { class: 'field' }, h('span', {}, 'task'), picker),
      task.description ? h('p', { class: 'muted' }, task.description) : null,
      fields.element,
      launch.element,
      h('div', { class: 'actions' }, button),
      message,
    );
    replaceChildren(this.#root, h('h2', {}, 'Submit a task'), form);
  }
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const issues = (error.body as { error?: { issues?: { path?: unknown[]; message?: string }[] } }).error
      ?.issues;
    if (issues !== undefined && issues.length > 0) {
      return issues.map((issue) => `${(issue.path ?? []).join('.') || 'input'}: ${issue.message}`).join('; ');
    }
  }
  return (error as Error).message;
}
