import { AuHttpError } from './errors/au-http-error';
import { parseServerSentEvents } from './parse-sse';
import type {
  DeadLetterFilters,
  ListFilters,
  ListResult,
  PausedState,
  RedriveFilter,
  RedriveResult,
  ScheduleRequest,
  ScheduleView,
  TaskEvent,
  TaskInfo,
  TaskLogs,
  TaskMap,
  TaskOutcome,
  TaskView,
  WatchEvent,
  WatchFilters,
} from './types';

export interface AuClientOptions {
  /** The server's base URL, with its route prefix if any: `http://127.0.0.1:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export interface SubmitOptions {
  /** Answer at once with the id (202) instead of waiting for the result. @default false */
  async?: boolean;
  /** Seconds the server may wait for the result (capped by the server). @default the server's */
  wait?: number;
  /**
   * Your own id (sent as `Idempotency-Key`): submitting again with the key and the same
   * input joins the computation; another input is refused (`AuHttpError`, status 409,
   * code `KEY_CONFLICT`).
   */
  idempotencyKey?: string;
  /** With `idempotencyKey`: seconds after it finished during which the key joins it; past them it runs again. */
  idempotencyWindow?: number;
  /** Higher runs first. @default the task's, else 0 */
  priority?: number;
  /** Milliseconds to wait before the computation may start. */
  delay?: number;
  /** Tags to list it by (`list({ tag })`). */
  tags?: string[];
  /** Seconds the record is kept after it ends. @default the server's */
  ttl?: number;
  /**
   * Ids of computations this one waits for: it starts once they all completed, and ends
   * without running when one fails or is cancelled. An unknown id is a 400 (`UNKNOWN_DEPENDENCY`).
   */
  dependsOn?: readonly string[];
  signal?: AbortSignal;
}

export interface EventsOptions {
  /** Resume after this event id (as `Last-Event-ID`). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Reconnections after the stream breaks before the end. @default 3 */
  reconnects?: number;
}

/** Options of `watch`. */
export interface WatchOptions {
  /** Resume after this event id (as `Last-Event-ID`). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Reconnections in a row after the stream breaks (reset by each event). @default 3 */
  reconnects?: number;
  /** Ms before a reconnection. @default 1000 */
  reconnectDelay?: number;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * A client for an au job server (`@au/http`), on `fetch`. Results of unfinished,
 * failed and cancelled computations are outcomes, not exceptions; `AuHttpError` is
 * thrown for refused requests (bad input, unknown id, auth) and unreachable servers.
 *
 * Typed with a task map: `new AuClient<InferTasks<typeof import('./tasks')>>({ url })`.
 */
export class AuClient<Tasks extends TaskMap = TaskMap> {
  readonly url: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;

  constructor(options: AuClientOptions) {
    if (typeof options?.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw new TypeError(`[au] [client] url must be an http(s) URL, got ${String(options?.url)}`);
    }
    this.url = options.url.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#headers = { accept: 'application/json', ...options.headers };
    if (options.apiKey !== undefined) this.#headers.authorization = `Bearer ${options.apiKey}`;
  }

  /**
   * Launches a task. Waits for the result (up to `wait` seconds, or the server's
   * default) unless `async`; the outcome says whether it completed, failed or is still
   * running (then poll `result(taskId)` or follow `events(taskId)`).
   */
  async submit<Name extends keyof Tasks & string>(
    task: Name,
    input: Tasks[Name]['input'],
    options: SubmitOptions = {},
  ): Promise<TaskOutcome<Tasks[Name]['result']>> {
    const query = new URLSearchParams();
    if (options.async) query.set('async', 'true');
    if (options.wait !== undefined) query.set('wait', String(options.wait));
    for (const name of ['priority', 'delay', 'ttl', 'idempotencyWindow'] as const) {
      if (options[name] !== undefined) query.set(name, String(options[name]));
    }
    for (const tag of options.tags ?? []) query.append('tags', tag);
    if (options.dependsOn !== undefined && options.dependsOn.length > 0)
      query.set('dependsOn', options.dependsOn.join(','));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    return this.#request<TaskOutcome<Tasks[Name]['result']>>('POST', `/${encodePath(task)}`, {
      query,
      headers,
      body: JSON.stringify(input ?? null),
      accept: [200, 202, 409],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /** Status, progress and timestamps of a computation. */
  status(taskId: string, options: { signal?: AbortSignal } = {}): Promise<TaskView> {
    return this.#request<TaskView>('GET', `/tasks/${encodeURIComponent(taskId)}`, options);
  }

  /** The outcome of a computation, waiting up to `wait` seconds for it to end. @default wait 0 */
  result<Result = unknown>(
    taskId: string,
    options: { wait?: number; signal?: AbortSignal } = {},
  ): Promise<TaskOutcome<Result>> {
    const query = new URLSearchParams();
    if (options.wait !== undefined) query.set('wait', String(options.wait));
    return this.#request<TaskOutcome<Result>>('GET', `/tasks/${encodeURIComponent(taskId)}/result`, {
      query,
      accept: [200, 202, 409],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /** Cancels a computation; `cancelled` is true when it was still pending or running. */
  cancel(
    taskId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ taskId: string; cancelled: boolean; status: TaskView['status'] }> {
    return this.#request('DELETE', `/tasks/${encodeURIComponent(taskId)}`, options);
  }

  /**
   * Runs a failed or cancelled computation again under its id (`POST /tasks/{id}/retry`):
   * resolves with the re-opened task. Rejects `AuHttpError` 409 while it is pending or
   * running or once it completed, 404 for an unknown id.
   */
  retry(taskId: string, options: { signal?: AbortSignal } = {}): Promise<TaskView> {
    return this.#request<TaskView>('POST', `/tasks/${encodeURIComponent(taskId)}/retry`, {
      ...options,
      accept: [202],
    });
  }

  /**
   * Retries every failed (default) or cancelled computation that matches (`POST
   * /tasks/redrive`). Rejects `AuHttpError` 404 (`NOTHING_TO_REDRIVE`) when none does.
   */
  redrive(filter: RedriveFilter = {}, options: { signal?: AbortSignal } = {}): Promise<RedriveResult> {
    const body: Record<string, unknown> = { ...filter };
    if (filter.since instanceof Date) body.since = filter.since.toISOString();
    return this.#request<RedriveResult>('POST', '/tasks/redrive', {
      ...options,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** Dead letters (failed computations), newest first; pass the returned `cursor` for the next page. */
  deadLetters(filters: DeadLetterFilters = {}, options: { signal?: AbortSignal } = {}): Promise<ListResult> {
    const query = new URLSearchParams();
    if (filters.task !== undefined) query.set('task', filters.task);
    if (filters.tag !== undefined) query.set('tag', filters.tag);
    if (filters.limit !== undefined) query.set('limit', String(filters.limit));
    if (filters.cursor !== undefined) query.set('cursor', filters.cursor);
    return this.#request<ListResult>('GET', '/dead-letters', { ...options, query });
  }

  /** How many dead letters there are. */
  async countDeadLetters(
    filters: Pick<DeadLetterFilters, 'task' | 'tag'> = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    const query = new URLSearchParams();
    if (filters.task !== undefined) query.set('task', filters.task);
    if (filters.tag !== undefined) query.set('tag', filters.tag);
    return (await this.#request<{ count: number }>('GET', '/dead-letters/count', { ...options, query }))
      .count;
  }

  /** Deletes dead letters (those that ended before `before`, when given); resolves with how many. */
  async purgeDeadLetters(
    filters: { task?: string; tag?: string; before?: Date | string | number } = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    const query = new URLSearchParams();
    if (filters.task !== undefined) query.set('task', filters.task);
    if (filters.tag !== undefined) query.set('tag', filters.tag);
    if (filters.before !== undefined) {
      query.set(
        'before',
        filters.before instanceof Date ? filters.before.toISOString() : String(filters.before),
      );
    }
    return (await this.#request<{ purged: number }>('DELETE', '/dead-letters', { ...options, query })).purged;
  }

  /** Computations, newest first; pass the returned `cursor` for the next page. */
  list(filters: ListFilters = {}, options: { signal?: AbortSignal } = {}): Promise<ListResult> {
    const query = new URLSearchParams();
    if (filters.status !== undefined) {
      query.set('status', typeof filters.status === 'string' ? filters.status : filters.status.join(','));
    }
    if (filters.task !== undefined) query.set('task', filters.task);
    if (filters.tag !== undefined) query.set('tag', filters.tag);
    if (filters.limit !== undefined) query.set('limit', String(filters.limit));
    if (filters.cursor !== undefined) query.set('cursor', filters.cursor);
    return this.#request<ListResult>('GET', '/tasks', { ...options, query });
  }

  // ---- Schedules ------------------------------------------------------------------

  /** Every schedule of the server, by id. */
  async schedules(options: { signal?: AbortSignal } = {}): Promise<ScheduleView[]> {
    return (await this.#request<{ items: ScheduleView[] }>('GET', '/schedules', options)).items;
  }

  /** One schedule; rejects `AuHttpError` 404 (`SCHEDULE_NOT_FOUND`) when there is none. */
  schedule(id: string, options: { signal?: AbortSignal } = {}): Promise<ScheduleView> {
    return this.#request<ScheduleView>('GET', `/schedules/${encodeURIComponent(id)}`, options);
  }

  /**
   * Creates a schedule, or replaces the one with the same id. Rejects `AuHttpError` 400
   * (`INVALID_SCHEDULE`, `INVALID_INPUT`) or 404 (`TASK_NOT_FOUND`) on bad input.
   */
  createSchedule<Name extends keyof Tasks & string>(
    request: ScheduleRequest<Tasks[Name]['input']> & { task: Name },
    options: { signal?: AbortSignal } = {},
  ): Promise<ScheduleView> {
    return this.#request<ScheduleView>('POST', '/schedules', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      accept: [200, 201],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /** Stops a schedule firing until it is resumed. */
  pauseSchedule(id: string, options: { signal?: AbortSignal } = {}): Promise<ScheduleView> {
    return this.#request<ScheduleView>('POST', `/schedules/${encodeURIComponent(id)}/pause`, options);
  }

  /** Fires a paused schedule again from its next tick. */
  resumeSchedule(id: string, options: { signal?: AbortSignal } = {}): Promise<ScheduleView> {
    return this.#request<ScheduleView>('POST', `/schedules/${encodeURIComponent(id)}/resume`, options);
  }

  /** Removes a schedule (runs already launched go on). */
  deleteSchedule(id: string, options: { signal?: AbortSignal } = {}): Promise<{ id: string; deleted: true }> {
    return this.#request('DELETE', `/schedules/${encodeURIComponent(id)}`, options);
  }

  // ---- Pauses ---------------------------------------------------------------------

  /**
   * What is paused: the whole queue, and tasks one by one. Rejects `AuHttpError` 501
   * (`PAUSE_UNSUPPORTED`) when the server's backend cannot pause; so do the four below.
   */
  pauses(options: { signal?: AbortSignal } = {}): Promise<PausedState> {
    return this.#request<PausedState>('GET', '/pauses', options);
  }

  /**
   * Stops starting `task` on every worker until `resumeTask`; its waiting computations stay
   * pending (shown `paused: true`). The task need not be served by this server.
   */
  pauseTask(task: string, options: { signal?: AbortSignal } = {}): Promise<PausedState> {
    return this.#request<PausedState>('PUT', `/pauses/tasks/${encodeURIComponent(task)}`, options);
  }

  /** Starts `task` again; its waiting computations start in their queue order. */
  resumeTask(task: string, options: { signal?: AbortSignal } = {}): Promise<PausedState> {
    return this.#request<PausedState>('DELETE', `/pauses/tasks/${encodeURIComponent(task)}`, options);
  }

  /** Stops starting any task until `resumeQueue`. */
  pauseQueue(options: { signal?: AbortSignal } = {}): Promise<PausedState> {
    return this.#request<PausedState>('PUT', '/pauses/queue', options);
  }

  /** Starts the queue again; tasks paused one by one stay paused. */
  resumeQueue(options: { signal?: AbortSignal } = {}): Promise<PausedState> {
    return this.#request<PausedState>('DELETE', '/pauses/queue', options);
  }

  /** The tasks the server runs, read from its OpenAPI document. */
  async tasks(options: { signal?: AbortSignal } = {}): Promise<TaskInfo[]> {
    const document = await this.#request<OpenApiDocument>('GET', '/openapi.json', options);
    const tasks: TaskInfo[] = [];
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      const operation = item.post;
      if (operation === undefined || !(operation.tags ?? []).includes('tasks')) continue;
      const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
      const info: TaskInfo = { name };
      if (operation.description !== undefined) info.description = operation.description;
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      if (schema !== undefined) info.inputSchema = schema;
      tasks.push(info);
    }
    return tasks.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Status and progress changes as they happen (server-sent events), ending after the
   * terminal status. Reconnects with `Last-Event-ID` when the stream breaks early.
   */
  async *events(taskId: string, options: EventsOptions = {}): AsyncGenerator<TaskEvent> {
    let lastEventId = options.lastEventId;
    let reconnects = options.reconnects ?? 3;
    const path = `/tasks/${encodeURIComponent(taskId)}/events`;
    for (;;) {
      const headers: Record<string, string> = { ...this.#headers, accept: 'text/event-stream' };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const response = await this.#send('GET', path, {
        headers,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if (!response.ok || response.body === null) {
        throw await this.#error(response, 'GET', path);
      }
      let ended = false;
      try {
        for await (const message of parseServerSentEvents(response.body)) {
          if (message.event === 'error') {
            throw new AuHttpError({ status: 200, body: safeJson(message.data), method: 'GET', url: path });
          }
          if (message.event !== 'status' && message.event !== 'progress') continue;
          if (message.id !== undefined) lastEventId = message.id;
          const task = JSON.parse(message.data) as TaskView;
          yield { id: message.id, type: message.event, task };
          if (TERMINAL.has(task.status)) ended = true;
        }
      } catch (error) {
        if (AuHttpError.isInstance(error) || options.signal?.aborted) throw error;
        if (reconnects <= 0) throw error;
      }
      if (ended) return;
      if (reconnects <= 0) {
        throw new AuHttpError({
          status: 0,
          body: undefined,
          method: 'GET',
          url: path,
          cause: new Error('the event stream ended before the computation did'),
        });
      }
      reconnects -= 1;
    }
  }

  /**
   * Every task's changes as they happen (`GET /events`, server-sent events), or those of
   * a task name, a tag or statuses, until `signal` aborts. A broken stream is resumed
   * with `Last-Event-ID`: the server replays what was missed, or sends a `reset` event
   * when it cannot (read `list` again then).
   */
  async *watch(filters: WatchFilters = {}, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    const query = new URLSearchParams();
    if (filters.status !== undefined) {
      query.set('status', typeof filters.status === 'string' ? filters.status : filters.status.join(','));
    }
    if (filters.task !== undefined) query.set('task', filters.task);
    if (filters.tag !== undefined) query.set('tag', filters.tag);
    let lastEventId = options.lastEventId;
    const allowed = options.reconnects ?? 3;
    let reconnects = allowed;
    for (;;) {
      const headers: Record<string, string> = { ...this.#headers, accept: 'text/event-stream' };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      let failure: unknown;
      try {
        const response = await this.#send('GET', '/events', {
          query,
          headers,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        if (!response.ok || response.body === null) throw await this.#error(response, 'GET', '/events');
        for await (const message of parseServerSentEvents(response.body)) {
          if (message.event === 'error') {
            throw new AuHttpError({
              status: 200,
              body: safeJson(message.data),
              method: 'GET',
              url: '/events',
            });
          }
          if (message.event === 'reset') {
            yield { id: undefined, type: 'reset' };
            continue;
          }
          if (message.event !== 'change') continue;
          if (message.id !== undefined) lastEventId = message.id;
          reconnects = allowed;
          yield { id: message.id, type: 'change', task: JSON.parse(message.data) as TaskView };
        }
      } catch (error) {
        if (options.signal?.aborted) return;
        if (AuHttpError.isInstance(error) && error.status >= 400) throw error;
        failure = error;
      }
      if (options.signal?.aborted) return;
      if (reconnects <= 0) {
        throw AuHttpError.isInstance(failure)
          ? failure
          : new AuHttpError({
              status: 0,
              body: undefined,
              method: 'GET',
              url: '/events',
              cause: failure ?? new Error('the event stream ended'),
            });
      }
      reconnects -= 1;
      await pause(options.reconnectDelay ?? 1000, options.signal);
    }
  }

  /** The lines a computation wrote with `ctx.log`, oldest first (`GET /tasks/{id}/logs`). */
  logs(taskId: string, options: { signal?: AbortSignal } = {}): Promise<TaskLogs> {
    return this.#request<TaskLogs>('GET', `/tasks/${encodeURIComponent(taskId)}/logs`, options);
  }

  // ---- private helpers ------------------------------------------------------------

  async #request<T>(
    method: string,
    path: string,
    options: {
      query?: URLSearchParams;
      headers?: Record<string, string>;
      body?: string;
      accept?: readonly number[];
      signal?: AbortSignal;
    } = {},
  ): Promise<T> {
    const response = await this.#send(method, path, {
      ...options,
      headers: { ...this.#headers, ...options.headers },
    });
    const accepted = options.accept ?? [200];
    if (!accepted.includes(response.status)) throw await this.#error(response, method, path);
    const body = (await response.json()) as T;
    // A 409 is an outcome (a failed computation) unless the request itself was refused
    // (a key held by another input): then the body is an error, not a task.
    if (isRefusal(body)) {
      throw new AuHttpError({ status: response.status, body, method, url: path });
    }
    return body;
  }

  async #send(
    method: string,
    path: string,
    options: {
      query?: URLSearchParams;
      headers: Record<string, string>;
      body?: string;
      signal?: AbortSignal;
    },
  ): Promise<Response> {
    const query = options.query?.toString();
    const url = `${this.url}${path}${query ? `?${query}` : ''}`;
    try {
      return await this.#fetch(url, {
        method,
        headers: options.headers,
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new AuHttpError({ status: 0, body: undefined, method, url: path, cause: error });
    }
  }

  async #error(response: Response, method: string, path: string): Promise<AuHttpError> {
    const text = await response.text().catch(() => '');
    return new AuHttpError({ status: response.status, body: safeJson(text), method, url: path });
  }
}

function isRefusal(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'error' in body && !('taskId' in body);
}

interface OpenApiDocument {
  paths?: Record<
    string,
    {
      post?: {
        tags?: string[];
        description?: string;
        requestBody?: { content?: Record<string, { schema?: unknown }> };
      };
    }
  >;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function encodePath(task: string): string {
  return encodeURIComponent(task).replaceAll('%3A', ':');
}
