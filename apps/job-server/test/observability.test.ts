import { PostgresQueueBackend } from '@au/backend-supabase';
import { submitTask, TracingMiddleware } from '@au/core';
import { applyMigration } from '@au/store-supabase';
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factorial } from '../src/sample-tasks';
import { type RunningServer, startServer } from '../src/start-server';

describe('job server observability', () => {
  describe('when started with AU_TRACING=true and an OpenTelemetry SDK in the process', () => {
    const exporter = new InMemorySpanExporter();
    let server: RunningServer;
    beforeAll(async () => {
      api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      api.trace.setGlobalTracerProvider(
        new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
      );
      server = await startServer(
        { AU_PORT: '0', AU_STORE: 'memory', AU_BACKEND: 'inline', AU_TRACING: 'true' },
        pino({ level: 'silent' }),
      );
    });
    afterAll(async () => {
      await server?.close();
      api.trace.disable();
      api.context.disable();
    });

    it('should trace a request from its launch to its run, and serve the new series at /metrics', async () => {
      const response = await fetch(`${server.url}/factorial`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n: 10 }),
      });
      const { taskId } = (await response.json()) as { taskId: string };
      const spans = exporter
        .getFinishedSpans()
        .filter((span) => span.attributes['messaging.message.id'] === taskId);
      const send = spans.find((span) => span.name === 'send factorial');
      const process = spans.find((span) => span.name === 'process factorial');
      expect(send?.kind).toBe(api.SpanKind.PRODUCER);
      expect(process?.spanContext().traceId).toBe(send?.spanContext().traceId);
      expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);

      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('au_store_computations{status="completed",task="factorial"} 1');
      expect(metrics).toContain('au_computations_total{task="factorial",status="completed"} 1');
      expect(metrics).toContain('# TYPE au_computations_running gauge');
      const stats = (await (await fetch(`${server.url}/stats`)).json()) as {
        counts: { byTask: Record<string, { completed: number }> };
        recent: { successRate: number };
      };
      expect(stats.counts.byTask.factorial?.completed).toBe(1);
      expect(stats.recent.successRate).toBe(1);
    });
  });

  describe('when started with AU_TRACING=true on the Postgres queue', () => {
    const url = process.env.AU_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const schema = `au_trace_${Date.now().toString(36)}`;
    const exporter = new InMemorySpanExporter();
    let server: RunningServer;
    let producer: PostgresQueueBackend;
    beforeAll(async () => {
      api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      api.trace.setGlobalTracerProvider(
        new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
      );
      await applyMigration(url, { schema });
      server = await startServer(
        {
          AU_PORT: '0',
          AU_STORE: `${url}?schema=${schema}`,
          AU_BACKEND: 'postgres',
          AU_TRACING: 'true',
          AU_SHUTDOWN_TIMEOUT_MS: '1000',
        },
        pino({ level: 'silent' }),
      );
      // Another producer, without workers: what it launches is work of another process for
      // the server's queue workers, which run the middleware of the configuration.
      producer = new PostgresQueueBackend({ connection: url, schema, worker: false });
    }, 30_000);
    afterAll(async () => {
      await producer?.close();
      await server?.close();
      api.trace.disable();
      api.context.disable();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    });

    it("should trace the work its queue workers take from another producer, in the producer's trace", async () => {
      const handle = await submitTask(
        factorial,
        { n: 6 },
        {
          store: server.config.store,
          backend: producer,
          middleware: [TracingMiddleware({ api })],
        },
      );
      expect(await handle.result({ timeout: 10_000 })).toBe('720');
      const spans = exporter
        .getFinishedSpans()
        .filter((span) => span.attributes['messaging.message.id'] === handle.key);
      const send = spans.find((span) => span.name === 'send factorial');
      const process = spans.find((span) => span.name === 'process factorial');
      expect(process?.kind).toBe(api.SpanKind.CONSUMER);
      expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    });
  });
});
