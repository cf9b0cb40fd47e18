import { COMPUTATION_STATUSES } from '@au/core';

type JsonSchema = Record<string, unknown>;

/**
 * The shared schemas of the API, each registered once (`app.addSchema`) and shown in
 * OpenAPI under `components.schemas` by its `$id`. Routes point at them with
 * `ref('TaskView')` instead of repeating them, so a client generator makes one type
 * for each.
 */
export const componentSchemas: JsonSchema[] = [
  {
    $id: 'TaskStatus',
    type: 'string',
    description: 'Where a computation is in its lifecycle',
    enum: [...COMPUTATION_STATUSES],
  },
  {
    $id: 'Error',
    type: 'object',
    description: 'An error answer: `code` is stable, `message` says what to do',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          issues: {
            type: 'array',
            description: 'What is wrong with the input (`INVALID_INPUT`)',
            items: {
              type: 'object',
              properties: {
                path: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'number' }] } },
                message: { type: 'string' },
                code: { type: 'string' },
              },
              required: ['path', 'message'],
            },
          },
          parameters: {
            type: 'array',
            items: { type: 'string' },
            description: 'The query parameters refused (`UNKNOWN_QUERY_PARAMETER`)',
          },
          field: { type: 'string', description: 'The schedule field refused (`INVALID_SCHEDULE`)' },
        },
        required: ['code', 'message'],
        additionalProperties: true,
      },
    },
    required: ['error'],
  },
  {
    $id: 'TaskError',
    type: 'object',
    description: 'Why a computation failed or was cancelled',
    properties: {
      code: { type: 'string' },
      name: { type: 'string' },
      message: { type: 'string' },
      stack: { type: 'string', description: 'Only when the server exposes stacks' },
    },
    required: ['code', 'name', 'message'],
  },
  {
    $id: 'TaskView',
    type: 'object',
    description: 'A computation as the API shows it',
    properties: {
      taskId: { type: 'string' },
      task: { type: 'string' },
      status: ref('TaskStatus'),
      progress: { description: 'The last progress value the task reported' },
      error: ref('TaskError'),
      attempt: { type: 'integer' },
      maxAttempts: { type: 'integer' },
      priority: { type: 'integer' },
      tags: { type: 'array', items: { type: 'string' } },
      createdAt: { type: 'string', format: 'date-time' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: 'string', format: 'date-time' },
      input: {
        description: 'The input, decoded (`GET /tasks/{id}` only; never for a task defined with `hideInput`)',
      },
      inputHidden: { type: 'boolean', description: 'true when the server withholds the input' },
      paused: {
        type: 'boolean',
        description:
          'true on a pending computation whose task, or the whole queue, is paused (`GET /pauses`): it waits for a resume',
      },
      history: {
        type: 'array',
        description: 'The attempts that ended before the current one (retried), oldest first',
        items: ref('TaskAttempt'),
      },
    },
    required: ['taskId', 'task', 'status', 'attempt', 'maxAttempts', 'createdAt'],
  },
  {
    $id: 'TaskAttempt',
    type: 'object',
    description: 'An attempt of a computation that ended and was retried (`TaskView.history`)',
    properties: {
      attempt: { type: 'integer' },
      status: { type: 'string', enum: ['failed', 'cancelled'] },
      error: ref('TaskError'),
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
    },
    required: ['attempt', 'status'],
  },
  {
    $id: 'TaskList',
    type: 'object',
    description: 'One page of computations, newest first',
    properties: {
      items: { type: 'array', items: ref('TaskView') },
      cursor: { type: 'string', description: 'Pass it as `?cursor=` for the next page' },
    },
    required: ['items'],
  },
  {
    $id: 'TaskResult',
    type: 'object',
    description: 'A completed computation and its result',
    properties: { taskId: { type: 'string' }, status: ref('TaskStatus'), result: {} },
    required: ['taskId', 'status', 'result'],
  },
  {
    $id: 'TaskAccepted',
    type: 'object',
    description: 'A computation still pending or running: poll the `Location`',
    properties: { taskId: { type: 'string' }, status: ref('TaskStatus') },
    required: ['taskId', 'status'],
  },
  {
    $id: 'TaskFailed',
    type: 'object',
    description: 'A computation that failed or was cancelled',
    properties: { taskId: { type: 'string' }, status: ref('TaskStatus'), error: ref('TaskError') },
    required: ['taskId', 'status', 'error'],
  },
  {
    $id: 'TaskLogLine',
    type: 'object',
    description: 'One line a task wrote with `ctx.log`',
    properties: {
      time: { type: 'string', format: 'date-time' },
      level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
      message: { type: 'string' },
      data: { description: 'The object logged with the message, if any' },
      attempt: { type: 'integer', description: 'The attempt that wrote it' },
    },
    required: ['time', 'level', 'message'],
  },
  {
    $id: 'TaskLogs',
    type: 'object',
    description: 'The lines a task wrote with `ctx.log`, bounded (the newest are kept)',
    properties: {
      taskId: { type: 'string' },
      status: ref('TaskStatus'),
      lines: { type: 'array', description: 'Oldest first', items: ref('TaskLogLine') },
      dropped: { type: 'integer', description: 'Older lines let go to keep the log bounded' },
    },
    required: ['taskId', 'status', 'lines', 'dropped'],
  },
  {
    $id: 'TaskCancelled',
    type: 'object',
    description: 'The answer to a cancel',
    properties: {
      taskId: { type: 'string' },
      cancelled: { type: 'boolean', description: 'true when it was still pending or running' },
      status: ref('TaskStatus'),
      deleted: { type: 'boolean', description: 'true with `?purge=true`: the record is gone' },
    },
    required: ['taskId', 'cancelled', 'status'],
  },
  {
    $id: 'Schedule',
    type: 'object',
    description: 'A schedule as the API shows it: times are ISO 8601, `input` decoded',
    properties: {
      id: { type: 'string' },
      task: { type: 'string' },
      cron: { type: 'string' },
      every: { type: 'integer', description: 'Milliseconds between ticks' },
      timezone: { type: 'string' },
      input: { description: 'The input of every run' },
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
      lastTaskId: { type: 'string', description: 'Id of the last run: `GET /tasks/{lastTaskId}`' },
      inputHidden: {
        type: 'boolean',
        description: 'true when the task hides its input (`hideInput`): no `input` field',
      },
      skipped: { type: 'integer', description: 'Ticks dropped by the overlap policy or as too old' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    required: ['id', 'task', 'overlap', 'paused', 'skipped', 'createdAt', 'updatedAt'],
  },
  {
    $id: 'ScheduleList',
    type: 'object',
    description: 'Every schedule, by id',
    properties: { items: { type: 'array', items: ref('Schedule') } },
    required: ['items'],
  },
  {
    $id: 'StatusCounts',
    type: 'object',
    description: 'Live computations by status (`pending` is the queue depth)',
    properties: Object.fromEntries(
      COMPUTATION_STATUSES.map((status) => [status, { type: 'integer', minimum: 0 }]),
    ),
    required: [...COMPUTATION_STATUSES],
  },
  {
    $id: 'Percentiles',
    type: 'object',
    description: 'Percentiles of durations in ms, over `count` samples',
    properties: {
      count: { type: 'integer', minimum: 0 },
      p50: { type: 'number' },
      p90: { type: 'number' },
      p99: { type: 'number' },
      max: { type: 'number' },
    },
    required: ['count', 'p50', 'p90', 'p99', 'max'],
  },
  {
    $id: 'WindowStats',
    type: 'object',
    description: 'What this process ran over the window (`MetricsMiddleware.stats()`)',
    properties: {
      window: { type: 'integer', description: 'The window in ms (shorter than asked when less is kept)' },
      completed: { type: 'integer', minimum: 0 },
      failed: { type: 'integer', minimum: 0 },
      cancelled: { type: 'integer', minimum: 0 },
      throughput: { type: 'number', description: 'Attempts that ended, per second' },
      successRate: {
        type: 'number',
        nullable: true,
        description: 'completed / (completed + failed); null when nothing ended',
      },
      duration: {
        description: 'Run time of the attempts that ended; null when none did',
        type: 'object',
        nullable: true,
        allOf: [ref('Percentiles')],
      },
      queueWait: {
        description: 'Launch to first start of the computations that started; null when none did',
        type: 'object',
        nullable: true,
        allOf: [ref('Percentiles')],
      },
      running: {
        type: 'object',
        description: 'Attempts running now in this process, by worker and by task',
        properties: {
          byWorker: { type: 'object', additionalProperties: { type: 'integer' } },
          byTask: { type: 'object', additionalProperties: { type: 'integer' } },
        },
        required: ['byWorker', 'byTask'],
      },
    },
    required: [
      'window',
      'completed',
      'failed',
      'cancelled',
      'throughput',
      'successRate',
      'duration',
      'queueWait',
      'running',
    ],
  },
  {
    $id: 'ComputationStats',
    type: 'object',
    description: "The store's computations by status and task, and what this process ran recently",
    properties: {
      at: { type: 'integer', description: 'When the counts were made (ms since the epoch)' },
      counts: {
        type: 'object',
        properties: {
          byStatus: ref('StatusCounts'),
          byTask: { type: 'object', additionalProperties: ref('StatusCounts') },
        },
        required: ['byStatus', 'byTask'],
      },
      recent: {
        description: 'null when the server keeps no metrics',
        type: 'object',
        nullable: true,
        allOf: [ref('WindowStats')],
      },
    },
    required: ['at', 'counts', 'recent'],
  },
  {
    $id: 'RedriveResult',
    type: 'object',
    description: 'The answer to a redrive: the tasks retried, and those that changed meanwhile',
    properties: {
      count: { type: 'integer', description: 'How many tasks were retried' },
      taskIds: { type: 'array', items: { type: 'string' } },
      errors: {
        type: 'array',
        description: 'Matching tasks that could not be retried (retried by someone else, deleted)',
        items: {
          type: 'object',
          properties: {
            taskId: { type: 'string' },
            code: { type: 'string' },
            message: { type: 'string' },
          },
          required: ['taskId', 'code', 'message'],
        },
      },
    },
    required: ['count', 'taskIds', 'errors'],
  },
  {
    $id: 'PausedState',
    type: 'object',
    description: "What is paused on the server's backend: no work of it starts until resumed",
    properties: {
      queue: { type: 'boolean', description: 'The whole queue is paused: no task starts' },
      tasks: {
        type: 'array',
        items: { type: 'string' },
        description: 'Tasks paused one by one (whether or not the whole queue is), sorted by name',
      },
    },
    required: ['queue', 'tasks'],
  },
];

/** A pointer at a component schema, for route schemas. */
export function ref(name: string): JsonSchema {
  return { $ref: `${name}#` };
}
