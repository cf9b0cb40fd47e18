import type { ComputationRecord } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { computationRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { findRecord } from './find-record';

/** One `ctx.log` line as the HTTP API shows it. */
export interface LogLineView {
  /** ISO 8601. */
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data?: unknown;
  attempt?: number;
}

/** The answer of `GET /tasks/{id}/logs`. */
export interface LogsView {
  taskId: string;
  status: ComputationRecord['status'];
  /** Oldest first. */
  lines: LogLineView[];
  /** Older lines let go to keep the log bounded. */
  dropped: number;
}

/** `GET /tasks/{id}/logs`: the lines the task wrote with `ctx.log` (404 for an unknown id). */
export function registerLogRoutes(app: FastifyInstance, state: PluginState): void {
  app.get<{ Params: { id: string } }>(
    '/tasks/:id/logs',
    { schema: computationRouteSchemas().logs },
    async (request) => toLogsView(await findRecord(state, request.params.id)),
  );
}

export function toLogsView(record: ComputationRecord): LogsView {
  return {
    taskId: record.key,
    status: record.status,
    lines: (record.logs?.lines ?? []).map((line) => {
      const view: LogLineView = {
        time: new Date(line.time).toISOString(),
        level: line.level,
        message: line.message,
      };
      if (line.data !== undefined) view.data = line.data;
      if (line.attempt !== undefined) view.attempt = line.attempt;
      return view;
    }),
    dropped: record.logs?.dropped ?? 0,
  };
}
