import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ComputationFailedError,
  defineTask,
  InProcessBackend,
  MemoryStore,
  submitTask,
  TracingMiddleware,
} from '../src/index';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const ok = defineTask({
  name: 'tracing.ok',
  run: (n: number) => {
    // A span the task makes nests under the run's span.
    api.trace.getTracer('task').startSpan('inside').end();
    return n * 2;
  },
});
const broken = defineTask({
  name: 'tracing.broken',
  run: (): never => {
    throw new RangeError('out of range');
  },
});

describe('TracingMiddleware', () => {
  beforeAll(() => {
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => {
    api.trace.disable();
    api.context.disable();
  });
  beforeEach(() => exporter.reset());

  const launch = async <I, R>(task: Parameters<typeof submitTask<I, R>>[0], input: I) => {
    const store = new MemoryStore();
    const backend = new InProcessBackend();
    const handle = await submitTask(task, input, {
      store,
      backend,
      middleware: [TracingMiddleware({ api })],
    });
    return { handle, close: () => backend.close() };
  };

  describe('when a computation completes', () => {
    it('should make one trace: send (producer), wait and process (consumer) under it, the task inside', async () => {
      const { handle, close } = await launch(ok, 21);
      expect(await handle.result({ timeout: 5000 })).toBe(42);
      await close();
      const spans = byName(exporter.getFinishedSpans());
      const send = spans['send tracing.ok']!;
      const wait = spans['wait tracing.ok']!;
      const process = spans['process tracing.ok']!;
      const inside = spans.inside!;
      expect(send.kind).toBe(api.SpanKind.PRODUCER);
      expect(process.kind).toBe(api.SpanKind.CONSUMER);
      const traceId = send.spanContext().traceId;
      for (const span of [wait, process, inside]) expect(span.spanContext().traceId).toBe(traceId);
      expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(wait.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(inside.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
      expect(send.attributes).toMatchObject({
        'messaging.system': 'au',
        'messaging.operation.type': 'send',
        'messaging.destination.name': 'tracing.ok',
        'messaging.message.id': handle.key,
      });
      expect(process.attributes).toMatchObject({
        'messaging.operation.type': 'process',
        'messaging.message.id': handle.key,
        'au.attempt': 1,
        'au.outcome': 'completed',
      });
      expect(process.status.code).not.toBe(api.SpanStatusCode.ERROR);
      // The trace context travelled in the record's meta.
      const meta = (await handle.record()).meta as { otel: { traceparent: string } };
      expect(meta.otel.traceparent).toContain(traceId);
    });
  });

  describe('when the task fails', () => {
    it('should record the exception and the error status on the run span', async () => {
      const { handle, close } = await launch(broken, undefined);
      await expect(handle.result({ timeout: 5000 })).rejects.toSatisfy(ComputationFailedError.isInstance);
      await close();
      const process = byName(exporter.getFinishedSpans())['process tracing.broken']!;
      expect(process.status).toEqual({ code: api.SpanStatusCode.ERROR, message: 'out of range' });
      expect(process.attributes['au.outcome']).toBe('failed');
      const exception = process.events.find((event) => event.name === 'exception');
      expect(exception?.attributes?.['exception.type']).toBe('RangeError');
    });
  });

  describe('when given a bad option', () => {
    it('should throw a TypeError naming it', () => {
      expect(() => TracingMiddleware({ tracer: 'x' } as never)).toThrow(/tracer/);
    });
  });

  describe('when given no api', () => {
    it('should load @opentelemetry/api itself', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const handle = await submitTask(ok, 1, { store, backend, middleware: [TracingMiddleware()] });
      expect(await handle.result({ timeout: 5000 })).toBe(2);
      await backend.close();
      expect(Object.keys(byName(exporter.getFinishedSpans()))).toEqual(
        expect.arrayContaining(['send tracing.ok', 'process tracing.ok']),
      );
    });
  });
});

function byName(spans: readonly ReadableSpan[]): Record<string, ReadableSpan> {
  return Object.fromEntries(spans.map((span) => [span.name, span]));
}
