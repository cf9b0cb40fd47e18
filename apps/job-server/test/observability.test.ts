import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
