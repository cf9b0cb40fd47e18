import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComputationFailedError, submitTask, TracingMiddleware } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks } from '@au/testing';
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import type { FileSpan } from './fixtures/trace-file';
import { redisUp, redisUrl, TestResources } from './helpers';
import { startWorkerProcess, stopWorkerProcess } from './worker-processes';

const resources = new TestResources();
const directory = mkdtempSync(join(tmpdir(), 'au-bullmq-trace-'));
afterAll(async () => {
  if (redisUp) await resources.cleanup();
  rmSync(directory, { recursive: true, force: true });
});

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when traced with OpenTelemetry and the worker runs in another process', () => {
    const queue = resources.queue('tracing');
    const prefix = resources.prefix('tracing');
    const traceFile = join(directory, 'worker-spans.jsonl');
    const exporter = new InMemorySpanExporter();
    let worker: ChildProcess;
    let store: RedisStore;
    let backend: BullMQBackend;

    beforeAll(async () => {
      api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      api.trace.setGlobalTracerProvider(
        new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
      );
      worker = await startWorkerProcess({
        AU_REDIS_URL: redisUrl,
        AU_QUEUE: queue,
        STORE_PREFIX: prefix,
        TRACE_FILE: traceFile,
      });
      store = new RedisStore({ redis: redisUrl, prefix });
      backend = new BullMQBackend({ connection: redisUrl, queue });
    }, 30_000);
    afterAll(async () => {
      await backend?.close();
      await store?.close();
      if (worker !== undefined) await stopWorkerProcess(worker);
      api.trace.disable();
      api.context.disable();
    });

    const launch = <I, R>(task: Parameters<typeof submitTask<I, R>>[0], input: I) =>
      submitTask(task, input, { store, backend, middleware: [TracingMiddleware({ api, system: 'bullmq' })] });

    /** The worker's spans of `key`, once its run span is in the file. */
    const workerSpans = async (key: string): Promise<FileSpan[]> => {
      for (let tries = 0; tries < 100; tries++) {
        const spans = readSpans(traceFile).filter((span) => span.attributes['messaging.message.id'] === key);
        if (spans.some((span) => span.name.startsWith('process '))) return spans;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`[test] the worker wrote no run span of "${key}" to ${traceFile}`);
    };

    it('should make one trace from the producer span to the worker process run span', async () => {
      const handle = await launch(conformanceTasks.add, { a: 40, b: 2 });
      expect(await handle.result({ timeout: 10_000 })).toBe(42);
      const send = exporter
        .getFinishedSpans()
        .find((span) => span.attributes['messaging.message.id'] === handle.key)!;
      expect(send.name).toBe('send au-conformance.add');
      expect(send.kind).toBe(api.SpanKind.PRODUCER);
      const spans = await workerSpans(handle.key);
      const run = spans.find((span) => span.name === 'process au-conformance.add')!;
      const wait = spans.find((span) => span.name === 'wait au-conformance.add')!;
      expect(run.pid).not.toBe(process.pid);
      expect(run.kind).toBe(api.SpanKind.CONSUMER);
      expect(run.traceId).toBe(send.spanContext().traceId);
      expect(run.parentSpanId).toBe(send.spanContext().spanId);
      expect(wait.traceId).toBe(send.spanContext().traceId);
      expect(run.attributes).toMatchObject({
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'au-conformance.add',
        'au.outcome': 'completed',
      });
    });

    it('should record the failure on the worker run span, in the producer trace', async () => {
      const handle = await launch(conformanceTasks.fail, { message: 'no good' });
      await expect(handle.result({ timeout: 10_000 })).rejects.toSatisfy(ComputationFailedError.isInstance);
      const send = exporter
        .getFinishedSpans()
        .find((span) => span.attributes['messaging.message.id'] === handle.key)!;
      const run = (await workerSpans(handle.key)).find((span) => span.name.startsWith('process '))!;
      expect(run.traceId).toBe(send.spanContext().traceId);
      expect(run.status).toEqual({ code: api.SpanStatusCode.ERROR, message: 'no good' });
      expect(run.events).toContain('exception');
      expect(run.attributes['au.outcome']).toBe('failed');
    });
  });
});

function readSpans(file: string): FileSpan[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FileSpan);
}
