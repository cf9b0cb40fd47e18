import type { TaskDefinition } from '@au/core';
import { toJSONSchema, type ZodType } from 'zod';
import { redriveBody } from './redrive-body';
import { scheduleBodySchema } from './schedule-view';

type JsonSchema = Record<string, unknown>;

const errorBody: JsonSchema = {
  type: 'object',
  description: 'An error: `code` is stable, `message` says what to do',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
      additionalProperties: true,
    },
  },
  required: ['error'],
};

const taskView: JsonSchema = {
  type: 'object',
  properties: {
    taskId: { type: 'string' },
    task: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'running', 'completed', 'failed', 'cancelled'] },
    progress: {},
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        name: { type: 'string' },
        message: { type: 'string' },
        stack: { type: 'string' },
      },
    },
    attempt: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    priority: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    input: { description: 'The input, decoded (`GET /tasks/{id}` only; never for a task with hideInput)' },
    inputHidden: { type: 'boolean', description: 'true when the server withholds the input' },
    history: {
      type: 'array',
      description: 'The attempts that ended before the current one (retried), oldest first',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          status: { type: 'string', enum: ['failed', 'cancelled'] },
          error: { type: 'object', additionalProperties: true },
          startedAt: { type: 'string', format: 'date-time' },
          finishedAt: { type: 'string', format: 'date-time' },
        },
        required: ['attempt', 'status'],
      },
    },
  },
  required: ['taskId', 'task', 'status', 'attempt', 'maxAttempts', 'createdAt'],
};

const accepted: JsonSchema = {
  description: 'Accepted: still running; poll the `Location`',
  type: 'object',
  properties: { taskId: { type: 'string' }, status: { type: 'string' } },
};

const failed: JsonSchema = {
  description: 'The computation failed or was cancelled',
  type: 'object',
  properties: {
    taskId: { type: 'string' },
    status: { type: 'string' },
    error: (taskView.properties as JsonSchema).error,
  },
};

const idParams: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The task id returned at launch' } },
  required: ['id'],
};

const waitQuery: JsonSchema = {
  type: 'object',
  properties: {
    wait: {
      type: 'number',
      minimum: 0,
      description: 'Seconds to wait for the result (capped by the server)',
    },
  },
};

/** The OpenAPI description of `POST /{task}`; the body schema comes from the task's zod schema. */
export function taskRouteSchema(task: TaskDefinition): JsonSchema {
  return {
    summary: `Run ${task.name}`,
    ...(task.description === undefined ? {} : { description: task.description }),
    tags: ['tasks'],
    body: inputJsonSchema(task),
    querystring: {
      type: 'object',
      properties: {
        ...(waitQuery.properties as JsonSchema),
        async: { type: 'boolean', description: 'Answer 202 at once (like `Prefer: respond-async`)' },
      },
    },
    response: {
      200: {
        description: 'The result',
        type: 'object',
        properties: { taskId: { type: 'string' }, status: { type: 'string' }, result: {} },
      },
      202: accepted,
      400: { ...errorBody, description: 'Invalid input: `error.issues` lists the problems' },
      401: { ...errorBody, description: 'Missing or wrong API key' },
      409: failed,
      413: { ...errorBody, description: 'Body too large' },
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
  const notFound = { ...errorBody, description: 'No task with this id' };
  const badId = { ...errorBody, description: 'Malformed id' };
  return {
    list: {
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
      response: {
        200: {
          type: 'object',
          properties: { items: { type: 'array', items: taskView }, cursor: { type: 'string' } },
        },
        400: errorBody,
      },
    },
    get: {
      summary: 'Status and progress of a task',
      tags: ['computations'],
      params: idParams,
      response: { 200: taskView, 400: badId, 404: notFound },
    },
    result: {
      summary: 'Result of a task',
      tags: ['computations'],
      params: idParams,
      querystring: waitQuery,
      response: {
        200: {
          type: 'object',
          properties: { taskId: { type: 'string' }, status: { type: 'string' }, result: {} },
        },
        202: accepted,
        400: badId,
        404: notFound,
        409: failed,
      },
    },
    cancel: {
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
        200: {
          type: 'object',
          properties: {
            taskId: { type: 'string' },
            cancelled: { type: 'boolean', description: 'true when it was still pending or running' },
            status: { type: 'string', description: 'The status it had when it was deleted, with ?purge' },
            deleted: { type: 'boolean', description: 'true with ?purge=true: the record is gone' },
          },
        },
        400: badId,
        404: notFound,
      },
    },
    logs: {
      summary: 'The lines the task wrote with ctx.log (bounded: the newest 200)',
      tags: ['computations'],
      params: idParams,
      response: {
        200: {
          type: 'object',
          properties: {
            taskId: { type: 'string' },
            status: (taskView.properties as JsonSchema).status,
            lines: {
              type: 'array',
              description: 'Oldest first',
              items: {
                type: 'object',
                properties: {
                  time: { type: 'string', format: 'date-time' },
                  level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
                  message: { type: 'string' },
                  data: { description: 'The object logged with the message, if any' },
                  attempt: { type: 'integer' },
                },
                required: ['time', 'level', 'message'],
              },
            },
            dropped: { type: 'integer', description: 'Older lines let go to keep the log bounded' },
          },
          required: ['taskId', 'status', 'lines', 'dropped'],
        },
        400: badId,
        404: notFound,
      },
    },
    stream: {
      summary:
        'Server-sent events of every task (or a task name, a tag, statuses), resumable with Last-Event-ID',
      description:
        'One `change` event per new task or new version of a task; `data` is the task as `GET /tasks/{id}` shows it. ' +
        'A client that reconnects with `Last-Event-ID` first gets the events it missed (the server keeps the last 1000); ' +
        'when it cannot (the server restarted, or more were missed) it gets a `reset` event: read `GET /tasks` again.',
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
      response: {
        200: {
          description: 'A stream of `change` events (and `reset`, heartbeat comments)',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        400: errorBody,
      },
    },
    events: {
      summary: 'Server-sent events of status and progress (resumable with Last-Event-ID)',
      tags: ['computations'],
      params: idParams,
      response: {
        200: { description: 'text/event-stream; `data` is the task as `GET /tasks/{id}` shows it' },
        400: badId,
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
      summary: 'Run a failed or cancelled task again under its id',
      description:
        'The attempt that ended goes into `history`; a full budget of retries starts. 409 while it is pending or running, or once it completed.',
      tags: ['computations'],
      params: idParams,
      response: {
        202: { ...taskView, description: 'Re-opened (pending); poll `Location`' },
        400: { ...errorBody, description: 'Malformed id' },
        404: { ...errorBody, description: 'No task with this id' },
        409: {
          ...errorBody,
          description:
            'Not failed or cancelled (`error.status` says what it is), or its task is not served here',
        },
      },
    },
    redrive: {
      summary: 'Retry every failed (or cancelled) task that matches a filter',
      tags: ['dead letters'],
      body: {
        ...redriveJson,
        description: 'status defaults to "failed" (the dead letters); since is an ISO date or ms',
      },
      response: {
        200: {
          type: 'object',
          properties: {
            count: { type: 'integer' },
            taskIds: { type: 'array', items: { type: 'string' } },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  taskId: { type: 'string' },
                  code: { type: 'string' },
                  message: { type: 'string' },
                },
              },
            },
          },
        },
        400: { ...errorBody, description: 'Invalid filter: `error.issues` lists the problems' },
        404: {
          ...errorBody,
          description: 'Nothing matches the filter (NOTHING_TO_REDRIVE), or the task is not served',
        },
      },
    },
    deadLetters: {
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
      response: {
        200: {
          type: 'object',
          properties: { items: { type: 'array', items: taskView }, cursor: { type: 'string' } },
        },
        400: errorBody,
      },
    },
    deadLetterCount: {
      summary: 'Count dead letters',
      tags: ['dead letters'],
      querystring: { type: 'object', properties: filterQuery },
      response: { 200: { type: 'object', properties: { count: { type: 'integer' } } } },
    },
    purgeDeadLetters: {
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
        200: { type: 'object', properties: { purged: { type: 'integer' } } },
        400: errorBody,
      },
    },
  };
}

/** The OpenAPI descriptions of the health and metrics routes. */
export function healthRouteSchemas() {
  return {
    healthz: { summary: 'The process is up', tags: ['health'] },
    readyz: { summary: 'The store and the backend answer', tags: ['health'] },
    metrics: { summary: 'Prometheus metrics', tags: ['health'] },
    stats: {
      summary:
        'Computations by status and task; throughput, success rate, duration and queue-wait percentiles and running counts of this process over a window',
      tags: ['health'],
      querystring: {
        type: 'object',
        properties: {
          window: {
            type: 'integer',
            minimum: 1,
            maximum: 900,
            description: 'Seconds of the window. Default 300',
          },
        },
      },
    },
  };
}

const scheduleView: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    task: { type: 'string' },
    cron: { type: 'string' },
    every: { type: 'integer', description: 'Milliseconds between ticks' },
    timezone: { type: 'string' },
    input: {},
    startAt: { type: 'string', format: 'date-time' },
    endAt: { type: 'string', format: 'date-time' },
    overlap: { type: 'string', enum: ['skip', 'allow', 'queue'] },
    priority: { type: 'number' },
    tags: { type: 'array', items: { type: 'string' } },
    ttl: { type: 'number' },
    catchUp: { type: 'integer' },
    paused: { type: 'boolean' },
    nextRunAt: { type: 'string', format: 'date-time' },
    lastRunAt: { type: 'string', format: 'date-time' },
    lastTaskId: { type: 'string', description: 'Id of the last run: GET /tasks/{lastTaskId}' },
    inputHidden: {
      type: 'boolean',
      description: 'true when the task hides its input (hideInput): no input field',
    },
    skipped: { type: 'integer', description: 'Ticks dropped by the overlap policy or as too old' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'task', 'overlap', 'paused', 'skipped', 'createdAt', 'updatedAt'],
};

const scheduleIdParams: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The schedule id' } },
  required: ['id'],
};

/** The OpenAPI descriptions of the `/schedules` routes. */
export function scheduleRouteSchemas() {
  const notFound = { ...errorBody, description: 'No schedule with this id' };
  const unavailable = { ...errorBody, description: 'This server keeps no schedules' };
  const body = toJSONSchema(scheduleBodySchema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  delete body.$schema;
  const one = (summary: string, extra: Record<number, JsonSchema> = {}) => ({
    summary,
    tags: ['schedules'],
    params: scheduleIdParams,
    response: {
      200: scheduleView,
      400: { ...errorBody, description: 'Malformed id' },
      404: notFound,
      501: unavailable,
      ...extra,
    },
  });
  return {
    list: {
      summary: 'List schedules, by id',
      tags: ['schedules'],
      response: {
        200: {
          type: 'object',
          properties: { items: { type: 'array', items: scheduleView } },
          required: ['items'],
        },
        501: unavailable,
      },
    },
    create: {
      summary: 'Create a schedule, or replace the one with this id',
      description:
        'Exactly one of `cron` and `every`. A schedule whose timing did not change keeps its place and its paused state.',
      tags: ['schedules'],
      body,
      response: {
        200: { ...scheduleView, description: 'Replaced' },
        201: { ...scheduleView, description: 'Created' },
        400: {
          ...errorBody,
          description:
            'Bad schedule (`INVALID_SCHEDULE`, `error.field` or `error.issues`) or input (`INVALID_INPUT`)',
        },
        404: { ...errorBody, description: 'The server serves no such task' },
        501: unavailable,
      },
    },
    get: one('Show a schedule'),
    pause: one('Pause a schedule: it fires nothing until resumed'),
    resume: one('Resume a schedule from its next tick'),
    delete: {
      summary: 'Delete a schedule (runs already launched go on)',
      tags: ['schedules'],
      params: scheduleIdParams,
      response: {
        200: { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } } },
        404: notFound,
        501: unavailable,
      },
    },
  };
}
