import type { TaskDefinition } from '@au/core';
import { toJSONSchema, type ZodType } from 'zod';
import { LAUNCH_LIMITS } from './launch-query';
import { ref } from './openapi-components';
import { redriveBody } from './redrive-body';
import { scheduleBodySchema } from './schedule-view';

type JsonSchema = Record<string, unknown>;

/*
 * Conventions of the route schemas (follow them for a new route):
 * - `operationId`: lowerCamelCase verb + noun (`listTasks`, `getTask`); a task's route
 *   is `run_<task name>` (see `taskOperationId`).
 * - Bodies and answers point at the shared schemas of `openapi-components.ts` with
 *   `ref('Name')`; a new shape used twice becomes a component there.
 * - Every answer has a `description`; errors use `errorAnswer(description)` (the
 *   `Error` component); a route that can be refused lists its 4xx answers.
 * - Every query parameter is declared in `querystring`: the plugin refuses undeclared
 *   ones (400 `UNKNOWN_QUERY_PARAMETER`). Request headers go in `headers`, answer
 *   headers in the answer's `headers`.
 * - A public route (no API key) sets `security: []`.
 */

/** An error answer (the `Error` component) with its description. */
export function errorAnswer(description: string): JsonSchema {
  return { description, ...ref('Error') };
}

/** An answer pointing at a component, with its description and headers. */
function answer(description: string, component: string, headers?: JsonSchema): JsonSchema {
  return { description, ...ref(component), ...(headers === undefined ? {} : { headers }) };
}

const badQuery = errorAnswer(
  'A query parameter is unknown (`UNKNOWN_QUERY_PARAMETER`) or has a bad value (`INVALID_QUERY`)',
);
const unauthorized = errorAnswer('Missing or wrong API key (when the server has API keys)');

const location = {
  Location: { type: 'string', description: 'Where to poll the computation: `/tasks/{id}`' },
};

const idParams: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The task id returned at launch' } },
  required: ['id'],
};

const waitParameter: JsonSchema = {
  type: 'number',
  minimum: 0,
  description: 'Seconds to wait for the result (capped by the server)',
};

const lastEventIdHeader: JsonSchema = {
  type: 'object',
  properties: {
    'Last-Event-ID': { type: 'string', description: 'The id of the last event seen: resume after it' },
  },
};

/** The `operationId` of a task's route: `run_` then the name, characters outside `A-Za-z0-9._-` as `_`. */
export function taskOperationId(task: string): string {
  return `run_${task.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * The OpenAPI description of `POST /{task}`; the body schema comes from the task's zod
 * schema (`body`: that schema with its shared parts moved to components, see `inputComponents`).
 */
export function taskRouteSchema(
  task: TaskDefinition,
  operationId = taskOperationId(task.name),
  body: JsonSchema = inputJsonSchema(task),
): JsonSchema {
  return {
    operationId,
    summary: `Run ${task.name}`,
    ...(task.description === undefined ? {} : { description: task.description }),
    tags: ['tasks'],
    body,
    headers: {
      type: 'object',
      properties: {
        'Idempotency-Key': {
          type: 'string',
          pattern: '^[A-Za-z0-9_.:-]{1,200}$',
          description:
            'Your key for this computation (same as `?key=`): the same key and input join the computation; another input is refused with 409 `KEY_CONFLICT`',
        },
        Prefer: {
          type: 'string',
          description: '`respond-async` answers 202 at once, like `?async=true` (RFC 7240)',
        },
      },
    },
    querystring: {
      type: 'object',
      properties: {
        wait: waitParameter,
        async: { type: 'boolean', description: 'Answer 202 at once (like `Prefer: respond-async`)' },
        key: {
          type: 'string',
          pattern: '^[A-Za-z0-9_.:-]{1,200}$',
          description: 'Your key for this computation (same as the `Idempotency-Key` header)',
        },
        priority: {
          type: 'integer',
          minimum: -LAUNCH_LIMITS.priority,
          maximum: LAUNCH_LIMITS.priority,
          description: "Higher runs first (default: the task's, else 0)",
        },
        delay: {
          type: 'integer',
          minimum: 0,
          maximum: LAUNCH_LIMITS.delay,
          description: 'Milliseconds to wait before the computation may start',
        },
        tags: {
          type: 'array',
          items: { type: 'string', maxLength: LAUNCH_LIMITS.tagLength },
          maxItems: LAUNCH_LIMITS.tags,
          description: 'Tags to list it by: the parameter repeated, or a comma-separated list',
        },
        ttl: {
          type: 'number',
          // OpenAPI 3.0 form: a flag on `minimum`.
          minimum: 0,
          exclusiveMinimum: true,
          description: 'Seconds the record is kept after the computation ends (> 0)',
        },
        idempotencyWindow: {
          type: 'number',
          minimum: 0,
          description:
            'With a key: seconds after the computation finished during which the key joins it; past them the key runs again',
        },
        dependsOn: {
          type: 'string',
          description:
            'Comma-separated task ids this one waits for: it starts once they all completed, and ends without running when one fails or is cancelled',
        },
      },
    },
    response: {
      200: answer('The result', 'TaskResult', location),
      202: answer('Accepted: still pending or running; poll the `Location`', 'TaskAccepted', location),
      400: errorAnswer('Invalid input (`error.issues` lists the problems), key or query parameter'),
      401: unauthorized,
      409: {
        description:
          'The computation failed or was cancelled (`TaskFailed`), or the key is held by another input or task (`Error`, code `KEY_CONFLICT`)',
        anyOf: [ref('TaskFailed'), ref('Error')],
      },
      413: errorAnswer('Body too large'),
      415: errorAnswer('The body is not JSON'),
      429: errorAnswer('Rate limited: retry after `Retry-After` seconds'),
    },
  };
}

/** JSON Schema of a task's input: from zod when the schema is a zod schema, else any value. */
export function inputJsonSchema(task: TaskDefinition): JsonSchema {
  const schema = task.input as unknown;
  if (typeof schema === 'object' && schema !== null && '_zod' in schema) {
    try {
      const json = toJSONSchema(schema as ZodType, {
        target: 'openapi-3.0',
        io: 'input',
        unrepresentable: 'any',
      }) as JsonSchema;
      delete json.$schema;
      return json;
    } catch {
      return { description: `input of ${task.name} (its schema cannot be shown as JSON Schema)` };
    }
  }
  return { description: `input of ${task.name}` };
}

/** The OpenAPI descriptions of the `/tasks` routes. */
export function computationRouteSchemas() {
  const notFound = errorAnswer('No task with this id');
  const badId = errorAnswer('Malformed id, or a query parameter refused');
  return {
    list: {
      operationId: 'listTasks',
      summary: 'List tasks, newest first',
      tags: ['computations'],
      querystring: {
        type: 'object',
        properties: {
          status: { type: 'string', description: 'One status or several, comma-separated' },
          task: { type: 'string' },
          tag: { type: 'string' },
          limit: { type: 'integer', minimum: 1, maximum: 1000 },
          cursor: { type: 'string', description: 'From the previous page' },
        },
      },
      response: { 200: answer('One page', 'TaskList'), 400: badQuery, 401: unauthorized },
    },
    get: {
      operationId: 'getTask',
      summary: 'Status and progress of a task',
      tags: ['computations'],
      params: idParams,
      response: { 200: answer('The task', 'TaskView'), 400: badId, 401: unauthorized, 404: notFound },
    },
    result: {
      operationId: 'getTaskResult',
      summary: 'Result of a task',
      tags: ['computations'],
      params: idParams,
      querystring: { type: 'object', properties: { wait: waitParameter } },
      response: {
        200: answer('The result', 'TaskResult'),
        202: answer('Still pending or running', 'TaskAccepted'),
        400: badId,
        401: unauthorized,
        404: notFound,
        409: answer('The computation failed or was cancelled', 'TaskFailed'),
      },
    },
    cancel: {
      operationId: 'cancelTask',
      summary: 'Cancel a task; with ?purge=true, cancel it and delete its record',
      tags: ['computations'],
      params: idParams,
      querystring: {
        type: 'object',
        properties: {
          purge: {
            type: 'boolean',
            description: 'Also delete the record (after cancelling it when it is pending or running)',
          },
        },
      },
      response: {
        200: answer(
          'What the cancel did (and, with `?purge=true`, that the record is gone)',
          'TaskCancelled',
        ),
        400: badId,
        401: unauthorized,
        404: notFound,
      },
    },
    logs: {
      operationId: 'getTaskLogs',
      summary: 'The lines the task wrote with ctx.log (bounded: the newest 200)',
      tags: ['computations'],
      params: idParams,
      response: {
        200: answer('The log lines, oldest first', 'TaskLogs'),
        400: badId,
        401: unauthorized,
        404: notFound,
      },
    },
    stream: {
      operationId: 'streamEvents',
      summary:
        'Server-sent events of every task (or a task name, a tag, statuses), resumable with Last-Event-ID',
      description:
        'One `change` event per new task or new version of a task; `data` is the task as `GET /tasks/{id}` shows it. ' +
        'A client that reconnects with `Last-Event-ID` first gets the events it missed (the server keeps the last 1000); ' +
        'when it cannot (the server restarted, or more were missed) it gets a `reset` event: read `GET /tasks` again. ' +
        '`HEAD` answers at once with the headers.',
      tags: ['computations'],
      querystring: {
        type: 'object',
        properties: {
          task: { type: 'string', description: 'Only this task' },
          tag: { type: 'string', description: 'Only tasks with this tag' },
          status: {
            type: 'string',
            description: 'Only versions with one of these statuses, comma-separated',
          },
        },
      },
      headers: lastEventIdHeader,
      response: {
        200: {
          description: 'The event stream',
          content: {
            'text/event-stream': {
              schema: {
                type: 'string',
                description:
                  '`id:`, `event: change` and `data:` (a `TaskView` as JSON) per event; `event: reset` when missed events cannot be replayed',
              },
            },
          },
        },
        400: badQuery,
        401: unauthorized,
      },
    },
    events: {
      operationId: 'streamTaskEvents',
      summary: 'Server-sent events of status and progress (resumable with Last-Event-ID)',
      description:
        'One `status` or `progress` event per change, each `data` the task as `GET /tasks/{id}` shows it; the stream ends after the terminal status. `HEAD` answers at once with the headers.',
      tags: ['computations'],
      params: idParams,
      headers: lastEventIdHeader,
      response: {
        200: {
          description: 'The event stream',
          content: {
            'text/event-stream': {
              schema: {
                type: 'string',
                description: '`id:`, `event: status | progress` and `data:` (a `TaskView` as JSON) per event',
              },
            },
          },
        },
        400: badId,
        401: unauthorized,
        404: notFound,
      },
    },
  };
}

/** The OpenAPI descriptions of the retry, redrive and dead-letter routes. */
export function retryRouteSchemas() {
  const filterQuery = {
    task: { type: 'string', description: 'Only this task' },
    tag: { type: 'string', description: 'Only those carrying this tag' },
  };
  const redriveJson = toJSONSchema(redriveBody, { target: 'openapi-3.0', io: 'input' }) as JsonSchema;
  delete redriveJson.$schema;
  return {
    retry: {
      operationId: 'retryTask',
      summary: 'Run a failed or cancelled task again under its id',
      description:
        'The attempt that ended goes into `history`; a full budget of retries starts. 409 while it is pending or running, or once it completed.',
      tags: ['computations'],
      params: idParams,
      response: {
        202: answer('Re-opened (pending); poll the `Location`', 'TaskView', location),
        400: errorAnswer('Malformed id, or a query parameter refused'),
        401: unauthorized,
        404: errorAnswer('No task with this id'),
        409: errorAnswer(
          'Not failed or cancelled (`RETRY_NOT_ALLOWED`, `error.status` says what it is), or its task is not served here (`TASK_NOT_SERVED`)',
        ),
        429: errorAnswer(
          'The queue of its task or backend is full (`QUEUE_FULL`): retry after `Retry-After` seconds',
        ),
      },
    },
    redrive: {
      operationId: 'redriveTasks',
      summary: 'Retry every failed (or cancelled) task that matches a filter',
      tags: ['dead letters'],
      body: {
        ...redriveJson,
        description: 'status defaults to "failed" (the dead letters); since is an ISO date or ms',
      },
      response: {
        200: answer('What was retried, and what could not be', 'RedriveResult'),
        400: errorAnswer(
          'Invalid filter (`INVALID_FILTER`, `error.issues` lists the problems), or a query parameter refused',
        ),
        401: unauthorized,
        404: errorAnswer(
          'Nothing matches the filter (`NOTHING_TO_REDRIVE`), or the task is not served (`TASK_NOT_FOUND`)',
        ),
      },
    },
    deadLetters: {
      operationId: 'listDeadLetters',
      summary: 'List dead letters (failed tasks), newest first',
      tags: ['dead letters'],
      querystring: {
        type: 'object',
        properties: {
          ...filterQuery,
          limit: { type: 'integer', minimum: 1, maximum: 1000 },
          cursor: { type: 'string', description: 'From the previous page' },
        },
      },
      response: { 200: answer('One page', 'TaskList'), 400: badQuery, 401: unauthorized },
    },
    deadLetterCount: {
      operationId: 'countDeadLetters',
      summary: 'Count dead letters',
      tags: ['dead letters'],
      querystring: { type: 'object', properties: filterQuery },
      response: {
        200: {
          description: 'How many dead letters match',
          type: 'object',
          properties: { count: { type: 'integer' } },
          required: ['count'],
        },
        400: badQuery,
        401: unauthorized,
      },
    },
    purgeDeadLetters: {
      operationId: 'purgeDeadLetters',
      summary: 'Delete dead letters',
      tags: ['dead letters'],
      querystring: {
        type: 'object',
        properties: {
          ...filterQuery,
          before: { type: 'string', description: 'Only those that ended before this time (ISO date or ms)' },
        },
      },
      response: {
        200: {
          description: 'How many dead letters were deleted',
          type: 'object',
          properties: { purged: { type: 'integer' } },
          required: ['purged'],
        },
        400: badQuery,
        401: unauthorized,
      },
    },
  };
}

/** The OpenAPI descriptions of the health, metrics and stats routes. */
export function healthRouteSchemas() {
  const health = {
    type: 'object',
    properties: { status: { type: 'string' } },
    required: ['status'],
  };
  return {
    healthz: {
      operationId: 'getHealth',
      summary: 'The process is up',
      tags: ['health'],
      security: [],
      response: { 200: { description: 'Up', ...health }, 400: badQuery },
    },
    readyz: {
      operationId: 'getReadiness',
      summary: 'The store and the backend answer',
      tags: ['health'],
      security: [],
      response: {
        200: {
          description: 'Ready',
          ...health,
          properties: {
            status: { type: 'string' },
            checks: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        400: badQuery,
        503: {
          description: 'Not ready: `checks` says which part failed',
          ...health,
          properties: {
            status: { type: 'string' },
            checks: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
    },
    metrics: {
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      tags: ['health'],
      response: {
        200: {
          description: 'Metrics in the Prometheus text format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        401: unauthorized,
      },
    },
    stats: {
      operationId: 'getStats',
      summary: 'Computations by status and task, and recent throughput, success rate and percentiles',
      description:
        'Live computations of the store by status and task; with metrics on, what this process ran over the window: throughput, success rate, duration and queue-wait percentiles, running counts.',
      tags: ['health'],
      querystring: {
        type: 'object',
        properties: {
          window: {
            type: 'integer',
            minimum: 1,
            maximum: 900,
            description: 'Seconds of the window of `recent`. Default 300',
          },
        },
      },
      response: {
        200: answer('The counts and recent statistics', 'ComputationStats'),
        400: badQuery,
        401: unauthorized,
      },
    },
  };
}

const scheduleIdParams: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The schedule id' } },
  required: ['id'],
};

/** The OpenAPI descriptions of the `/schedules` routes. */
export function scheduleRouteSchemas() {
  const notFound = errorAnswer('No schedule with this id (`SCHEDULE_NOT_FOUND`)');
  const badId = errorAnswer('Malformed id, or a query parameter refused');
  const unavailable = errorAnswer(
    'This server keeps no schedules (`SCHEDULES_UNAVAILABLE`): its store has no schedule storage and its backend no scheduler',
  );
  const scheduleLocation = {
    Location: { type: 'string', description: 'The schedule: `/schedules/{id}`' },
  };
  const body = toJSONSchema(scheduleBodySchema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  delete body.$schema;
  const one = (operationId: string, summary: string, done: string) => ({
    operationId,
    summary,
    tags: ['schedules'],
    params: scheduleIdParams,
    response: {
      200: answer(done, 'Schedule'),
      400: badId,
      401: unauthorized,
      404: notFound,
      501: unavailable,
    },
  });
  return {
    list: {
      operationId: 'listSchedules',
      summary: 'List schedules, by id',
      tags: ['schedules'],
      response: {
        200: answer('Every schedule, by id', 'ScheduleList'),
        400: badQuery,
        401: unauthorized,
        501: unavailable,
      },
    },
    create: {
      operationId: 'createSchedule',
      summary: 'Create a schedule, or replace the one with this id',
      description:
        'Exactly one of `cron` and `every`. A schedule whose timing did not change keeps its place and its paused state.',
      tags: ['schedules'],
      body,
      response: {
        200: answer('Replaced', 'Schedule', scheduleLocation),
        201: answer('Created', 'Schedule', scheduleLocation),
        400: errorAnswer(
          'Bad schedule (`INVALID_SCHEDULE`, `error.field` or `error.issues`), input (`INVALID_INPUT`) or query parameter',
        ),
        401: unauthorized,
        404: errorAnswer('The server serves no such task (`TASK_NOT_FOUND`)'),
        413: errorAnswer('Body too large'),
        415: errorAnswer('The body is not JSON'),
        501: unavailable,
      },
    },
    get: one('getSchedule', 'Show a schedule', 'The schedule'),
    pause: one('pauseSchedule', 'Pause a schedule: it fires nothing until resumed', 'The schedule, paused'),
    resume: one('resumeSchedule', 'Resume a schedule from its next tick', 'The schedule, resumed'),
    delete: {
      operationId: 'deleteSchedule',
      summary: 'Delete a schedule (runs already launched go on)',
      tags: ['schedules'],
      params: scheduleIdParams,
      response: {
        200: {
          description: 'Deleted',
          type: 'object',
          properties: { id: { type: 'string' }, deleted: { type: 'boolean' } },
          required: ['id', 'deleted'],
        },
        400: badId,
        401: unauthorized,
        404: notFound,
        501: unavailable,
      },
    },
  };
}

/** `GET /pauses`, `PUT` and `DELETE /pauses/queue`, `PUT` and `DELETE /pauses/tasks/{task}`. */
export function pauseRouteSchemas() {
  const unsupported = errorAnswer(
    "The server's backend cannot pause (`PAUSE_UNSUPPORTED`): it has no `pause`, `resume` and `paused`",
  );
  const taskParams: JsonSchema = {
    type: 'object',
    properties: {
      task: {
        type: 'string',
        description:
          'A task name (letters, digits, . _ : -). It need not be served here: workers elsewhere may run it',
      },
    },
    required: ['task'],
  };
  const change = (operationId: string, summary: string, description: string, params?: JsonSchema) => ({
    operationId,
    summary,
    description,
    tags: ['pauses'],
    ...(params === undefined ? {} : { params }),
    response: {
      200: answer('What is paused now', 'PausedState'),
      400: errorAnswer('Malformed task name (`INVALID_TASK`), or a query parameter refused'),
      401: unauthorized,
      501: unsupported,
    },
  });
  return {
    list: {
      operationId: 'getPauses',
      summary: 'Show what is paused: the whole queue, and tasks one by one',
      tags: ['pauses'],
      response: {
        200: answer('What is paused now', 'PausedState'),
        400: badQuery,
        401: unauthorized,
        501: unsupported,
      },
    },
    pauseQueue: change(
      'pauseQueue',
      'Pause the whole queue',
      'No task starts on any worker until `DELETE /pauses/queue`; running work finishes, waiting work stays pending. Pausing what is paused changes nothing.',
    ),
    resumeQueue: change(
      'resumeQueue',
      'Resume the whole queue',
      'Tasks paused one by one stay paused. Resuming what runs changes nothing.',
    ),
    pauseTask: change(
      'pauseTask',
      'Pause one task',
      'No computation of the task starts on any worker until `DELETE /pauses/tasks/{task}`; running ones finish, waiting ones stay pending (shown with `paused: true`).',
      taskParams,
    ),
    resumeTask: change(
      'resumeTask',
      'Resume one task',
      'Its waiting computations start again, in their queue order. Resuming a task that is not paused changes nothing.',
      taskParams,
    ),
  };
}
