import type { TaskDefinition } from '@au/core';
import { toJSONSchema, type ZodType } from 'zod';

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
        dependsOn: {
          type: 'string',
          description:
            'Comma-separated task ids this one waits for: it starts once they all completed, and ends without running when one fails or is cancelled',
        },
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
