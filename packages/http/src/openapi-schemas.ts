import type { TaskDefinition } from '@au/core';
import { toJSONSchema, type ZodType } from 'zod';
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
      summary: 'Cancel a task',
      tags: ['computations'],
      params: idParams,
      response: {
        200: {
          type: 'object',
          properties: {
            taskId: { type: 'string' },
            cancelled: { type: 'boolean', description: 'true when it was still pending or running' },
            status: { type: 'string' },
          },
        },
        400: badId,
        404: notFound,
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

/** The OpenAPI descriptions of the health and metrics routes. */
export function healthRouteSchemas() {
  return {
    healthz: { summary: 'The process is up', tags: ['health'] },
    readyz: { summary: 'The store and the backend answer', tags: ['health'] },
    metrics: { summary: 'Prometheus metrics', tags: ['health'] },
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
