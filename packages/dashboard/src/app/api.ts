import { parseServerSentEvents } from '@au/client';
import type { ApiKey } from './api-key';
import { type LaunchOptions, launchQuery } from './launch-options-form';
import { resolveRefs } from './resolve-refs';
import type {
  JsonSchema,
  LogsView,
  Outcome,
  PausedState,
  ScheduleView,
  StatsView,
  TaskInfo,
  TaskStatus,
  TaskView,
} from './types';

/** An error answer of the API. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    super(error?.message ?? `the server answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error?.code ?? `HTTP_${status}`;
    this.body = body;
  }
}

export interface ListFilters {
  status?: TaskStatus | '';
  task?: string;
  tag?: string;
  limit?: number;
  cursor?: string;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The au HTTP API of the server that serves the page. */
export class Api {
  readonly base: string;
  readonly #key: ApiKey;

  constructor(base: string, key: ApiKey) {
    this.base = base;
    this.#key = key;
  }

  list(filters: ListFilters): Promise<{ items: TaskView[]; cursor?: string }> {
    const query = new URLSearchParams();
    if (filters.status) query.set('status', filters.status);
    if (filters.task) query.set('task', filters.task);
    if (filters.tag) query.set('tag', filters.tag);
    if (filters.limit !== undefined) query.set('limit', String(filters.limit));
    if (filters.cursor) query.set('cursor', filters.cursor);
    return this.#json('GET', `/tasks?${query}`);
  }

  get(id: string): Promise<TaskView> {
    return this.#json('GET', `/tasks/${encodeURIComponent(id)}`);
  }

  result(id: string): Promise<Outcome> {
    return this.#json('GET', `/tasks/${encodeURIComponent(id)}/result`, { accept: [200, 202, 409] });
  }

  cancel(id: string): Promise<{ taskId: string; cancelled: boolean; status: TaskStatus }> {
    return this.#json('DELETE', `/tasks/${encodeURIComponent(id)}`);
  }

  /** Deletes the record (`?purge=true`), cancelling it first when it is still active. */
  remove(id: string): Promise<{ taskId: string; cancelled: boolean; status: TaskStatus; deleted?: boolean }> {
    return this.#json('DELETE', `/tasks/${encodeURIComponent(id)}?purge=true`);
  }

  /** Runs a failed or cancelled computation again under the same id. */
  retry(id: string): Promise<unknown> {
    return this.#json('POST', `/tasks/${encodeURIComponent(id)}/retry`, { accept: [200, 202] });
  }

  deadLetters(filter: { task?: string; limit?: number }): Promise<{ items: TaskView[]; cursor?: string }> {
    const query = new URLSearchParams();
    if (filter.task) query.set('task', filter.task);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    return this.#json('GET', `/dead-letters?${query}`);
  }

  deadLetterCount(filter: { task?: string }): Promise<{ count: number }> {
    const query = new URLSearchParams(filter.task ? { task: filter.task } : {});
    return this.#json('GET', `/dead-letters/count?${query}`);
  }

  /** Deletes the dead letters (of a task): `{ purged }`. */
  purgeDeadLetters(filter: { task?: string }): Promise<{ purged: number }> {
    const query = new URLSearchParams(filter.task ? { task: filter.task } : {});
    return this.#json('DELETE', `/dead-letters?${query}`);
  }

  /** Retries every failed computation (of a task). */
  redrive(filter: { task?: string }): Promise<{
    count: number;
    taskIds: string[];
    errors: { taskId: string; code: string; message: string }[];
  }> {
    return this.#json('POST', '/tasks/redrive', { body: JSON.stringify(filter) });
  }

  /** Live counts by status and task, and the recent window of the server's metrics. */
  stats(): Promise<StatsView> {
    return this.#json('GET', '/stats');
  }

  logs(id: string): Promise<LogsView> {
    return this.#json('GET', `/tasks/${encodeURIComponent(id)}/logs`);
  }

  schedules(): Promise<{ items: ScheduleView[] }> {
    return this.#json('GET', '/schedules');
  }

  pauseSchedule(id: string): Promise<ScheduleView> {
    return this.#json('POST', `/schedules/${encodeURIComponent(id)}/pause`);
  }

  resumeSchedule(id: string): Promise<ScheduleView> {
    return this.#json('POST', `/schedules/${encodeURIComponent(id)}/resume`);
  }

  deleteSchedule(id: string): Promise<{ id: string; deleted: boolean }> {
    return this.#json('DELETE', `/schedules/${encodeURIComponent(id)}`);
  }

  /** What is paused: the whole queue, and tasks one by one (`GET /pauses`). */
  pauses(): Promise<PausedState> {
    return this.#json('GET', '/pauses');
  }

  /** Pauses `task`, or without it the whole queue; answers what is paused then. */
  pause(task?: string): Promise<PausedState> {
    return this.#json(
      'PUT',
      task === undefined ? '/pauses/queue' : `/pauses/tasks/${encodeURIComponent(task)}`,
    );
  }

  /** Resumes `task`, or without it the whole queue; answers what is paused then. */
  resume(task?: string): Promise<PausedState> {
    return this.#json(
      'DELETE',
      task === undefined ? '/pauses/queue' : `/pauses/tasks/${encodeURIComponent(task)}`,
    );
  }

  /**
   * Launches `task` at once (`?async=true`) with the launch options as query parameters.
   * A key already used by another input (409 `KEY_CONFLICT`) is an `ApiError`; a key that
   * joins an ended computation answers with it (200, or 409 with its error).
   */
  async submit(
    task: string,
    input: unknown,
    options: LaunchOptions = {},
  ): Promise<{ taskId: string; status: TaskStatus }> {
    const path = `/${encodeURIComponent(task).replaceAll('%3A', ':')}?${launchQuery(options)}`;
    const answer = await this.#json<{ taskId?: string; status: TaskStatus }>('POST', path, {
      body: JSON.stringify(input),
      accept: [200, 202, 409],
    });
    if (answer.taskId === undefined) throw new ApiError(409, answer);
    return answer as { taskId: string; status: TaskStatus };
  }

  /**
   * What the server offers, from `/openapi.json`: the served tasks with their input
   * schemas, and the API's paths (so the page shows schedules, dead letters or logs only
   * where the server has them).
   */
  async describe(): Promise<{ tasks: TaskInfo[]; paths: Set<string> }> {
    const document = await this.#json<{
      paths?: Record<
        string,
        {
          post?: {
            tags?: string[];
            description?: string;
            requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
          };
        }
      >;
      components?: { schemas?: Record<string, unknown> };
    }>('GET', '/openapi.json');
    const tasks: TaskInfo[] = [];
    const paths = new Set<string>();
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      paths.add(path.startsWith(this.base) ? path.slice(this.base.length) : path);
      const operation = item.post;
      if (operation === undefined || !(operation.tags ?? []).includes('tasks')) continue;
      const info: TaskInfo = { name: decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) };
      if (operation.description) info.description = operation.description;
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      // Parts reused or recursive in the task's schema are components: inline them.
      if (schema !== undefined) info.schema = resolveRefs(schema, document.components?.schemas);
      tasks.push(info);
    }
    return { tasks: tasks.sort((a, b) => a.name.localeCompare(b.name)), paths };
  }

  /**
   * Follows a computation's server-sent events (read with fetch, so the API key goes
   * in the header) and calls `onView` with each new view; reconnects with
   * `Last-Event-ID` when the stream breaks, and ends after the terminal status.
   */
  async follow(id: string, onView: (view: TaskView) => void, signal: AbortSignal): Promise<void> {
    let lastEventId: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', ...this.#authorization() };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const response = await fetch(`${this.base}/tasks/${encodeURIComponent(id)}/events`, {
          headers,
          signal,
        });
        if (response.status === 401) {
          await this.#askKey(response);
          continue;
        }
        if (!response.ok || response.body === null)
          throw new ApiError(response.status, await readJson(response));
        for await (const message of parseServerSentEvents(response.body)) {
          if (message.event !== 'status' && message.event !== 'progress') continue;
          if (message.id !== undefined) lastEventId = message.id;
          const view = JSON.parse(message.data) as TaskView;
          failures = 0;
          onView(view);
          if (TERMINAL.has(view.status)) return;
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) throw error;
        failures += 1;
        if (failures > 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * failures));
      }
    }
  }

  /**
   * Follows every computation's changes (`GET /events`): `onView` with each changed view,
   * `onReset` when the server could not replay what was missed (read the list again),
   * `onLive` with true once connected and false while reconnecting. Reconnects with
   * `Last-Event-ID` until `signal` aborts.
   */
  async watch(
    handlers: { onView: (view: TaskView) => void; onReset: () => void; onLive: (live: boolean) => void },
    signal: AbortSignal,
  ): Promise<void> {
    let lastEventId: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', ...this.#authorization() };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const response = await fetch(`${this.base}/events`, { headers, signal });
        if (response.status === 401) {
          await this.#askKey(response);
          continue;
        }
        if (!response.ok || response.body === null)
          throw new ApiError(response.status, await readJson(response));
        handlers.onLive(true);
        failures = 0;
        for await (const message of parseServerSentEvents(response.body)) {
          if (message.id !== undefined) lastEventId = message.id;
          if (message.event === 'change') handlers.onView(JSON.parse(message.data) as TaskView);
          else if (message.event === 'reset') handlers.onReset();
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) throw error;
      }
      handlers.onLive(false);
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * failures)));
    }
  }

  async #json<T>(
    method: string,
    path: string,
    options: { body?: string; accept?: number[] } = {},
  ): Promise<T> {
    for (;;) {
      const headers: Record<string, string> = { accept: 'application/json', ...this.#authorization() };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
      });
      if (response.status === 401) {
        await this.#askKey(response);
        continue;
      }
      const body = await readJson(response);
      if (!(options.accept ?? [200]).includes(response.status)) throw new ApiError(response.status, body);
      return body as T;
    }
  }

  #authorization(): Record<string, string> {
    const key = this.#key.get();
    return key === undefined ? {} : { authorization: `Bearer ${key}` };
  }

  async #askKey(response: Response): Promise<void> {
    await response.body?.cancel().catch(() => undefined);
    const had = this.#key.get() !== undefined;
    if (had) this.#key.forget();
    await this.#key.ask(
      had
        ? 'The server refused this API key. Enter another one (kept in this tab only).'
        : 'This server needs an API key. It is kept in this tab only (session storage).',
    );
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
