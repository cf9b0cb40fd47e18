import type { LaunchContext, Middleware, RunContext } from '../contracts/middleware';
import { CancelledError } from '../errors/cancelled-error';
import { ConfigError } from '../errors/config-error';
import { checkOptions, optionNames } from '../internal/check-options';

/**
 * The parts of `@opentelemetry/api` this middleware uses, so that core does not depend
 * on it: `import * as api from '@opentelemetry/api'` fits. Opaque `unknown` stands for
 * the API's `Context`.
 */
export interface OpenTelemetryApi {
  trace: {
    getTracer(name: string, version?: string): OpenTelemetryTracer;
    setSpan(context: never, span: never): unknown;
    getSpanContext(context: never): OpenTelemetrySpanContext | undefined;
    setSpanContext(context: never, spanContext: never): unknown;
  };
  context: {
    active(): unknown;
    with<T>(context: never, fn: () => T): T;
  };
  propagation: {
    inject(context: never, carrier: Record<string, string>): void;
    extract(context: never, carrier: Record<string, string>): unknown;
  };
  ROOT_CONTEXT: unknown;
}

export interface OpenTelemetryTracer {
  startSpan(
    name: string,
    options?: {
      kind?: number;
      attributes?: Record<string, string | number | boolean>;
      startTime?: Date;
    },
    context?: never,
  ): OpenTelemetrySpan;
}

export interface OpenTelemetrySpan {
  spanContext(): OpenTelemetrySpanContext;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error): void;
  end(endTime?: Date): void;
}

export interface OpenTelemetrySpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: unknown;
  isRemote?: boolean;
}

/** Options of `TracingMiddleware`. */
export interface TracingMiddlewareOptions {
  /**
   * The OpenTelemetry API module. @default `await import('@opentelemetry/api')` on first
   * use (an optional peer dependency of @au/core; a `ConfigError` says to install it)
   */
  api?: OpenTelemetryApi;
  /** `messaging.system` of every span. @default 'au' */
  system?: string;
  /** Name of the tracer. @default '@au/core' */
  tracerName?: string;
  /** The `meta` field that carries the trace context from the launch to the run. @default 'otel' */
  metaKey?: string;
  /** Add a `wait <task>` span from the launch to the first attempt's start. @default true */
  queueWait?: boolean;
}

/** Values of the API's `SpanKind` and `SpanStatusCode` (stable since API 1.0). */
const SPAN_KIND = { INTERNAL: 0, PRODUCER: 3, CONSUMER: 4 } as const;
const STATUS_ERROR = 2;

const TRACING_OPTIONS = optionNames<TracingMiddlewareOptions>({
  api: true,
  system: true,
  tracerName: true,
  metaKey: true,
  queueWait: true,
});

/**
 * OpenTelemetry spans around launching and running, with the messaging semantic
 * conventions. Launch side: a `send <task>` span (PRODUCER) whose context is written into
 * the record's `meta` (W3C `traceparent`, plus whatever the global propagator adds), so it
 * travels with the computation to whichever thread, process or machine runs it. Run side:
 * a `wait <task>` span for the queue wait (first attempt) and a `process <task>` span
 * (CONSUMER) per attempt, children of the launch's span, active while the task runs so
 * that spans the task makes nest under it. A failure records the exception and sets the
 * error status. Put it in the middleware of the launching side and of the workers.
 */
export function TracingMiddleware(options: TracingMiddlewareOptions = {}): Middleware {
  checkOptions('TracingMiddleware', options, TRACING_OPTIONS);
  const system = options.system ?? 'au';
  const metaKey = options.metaKey ?? 'otel';
  const queueWait = options.queueWait !== false;
  let loaded: Promise<OpenTelemetryApi> | undefined;
  const load = (): Promise<OpenTelemetryApi> => {
    loaded ??= options.api !== undefined ? Promise.resolve(options.api) : importApi();
    return loaded;
  };
  const attributes = (context: LaunchContext | RunContext, operation: 'send' | 'process') => ({
    'messaging.system': system,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    // The attribute of semantic conventions before 1.26, for back ends that still read it.
    'messaging.operation': operation === 'send' ? 'publish' : 'process',
    'messaging.destination.name': context.task,
    'messaging.message.id': context.key,
  });

  return {
    name: 'tracing',
    async launch(context, next) {
      const api = await load();
      const tracer = api.trace.getTracer(options.tracerName ?? '@au/core');
      const parent = api.context.active();
      const span = tracer.startSpan(
        `send ${context.task}`,
        { kind: SPAN_KIND.PRODUCER, attributes: attributes(context, 'send') },
        parent as never,
      );
      const active = api.trace.setSpan(parent as never, span as never);
      const carrier: Record<string, string> = {};
      api.propagation.inject(active as never, carrier);
      // Without a registered propagator the API injects nothing: write W3C's header ourselves.
      carrier.traceparent ??= toTraceparent(span.spanContext());
      context.meta[metaKey] = carrier;
      try {
        return await api.context.with(active as never, next);
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    async run(context, next) {
      const api = await load();
      const tracer = api.trace.getTracer(options.tracerName ?? '@au/core');
      const parent = launchContext(api, context.meta[metaKey]);
      const base = attributes(context, 'process');
      if (queueWait && context.attempt === 1) {
        const wait = tracer.startSpan(
          `wait ${context.task}`,
          { kind: SPAN_KIND.INTERNAL, attributes: base, startTime: new Date(context.createdAt) },
          parent as never,
        );
        wait.end(new Date(Math.max(context.startedAt, context.createdAt)));
      }
      const span = tracer.startSpan(
        `process ${context.task}`,
        {
          kind: SPAN_KIND.CONSUMER,
          attributes: { ...base, 'au.attempt': context.attempt },
          startTime: new Date(context.startedAt),
        },
        parent as never,
      );
      try {
        const result = await api.context.with(
          api.trace.setSpan(parent as never, span as never) as never,
          next,
        );
        span.setAttribute('au.outcome', 'completed');
        return result;
      } catch (error) {
        span.setAttribute('au.outcome', CancelledError.isInstance(error) ? 'cancelled' : 'failed');
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  };
}

// ---- private helpers --------------------------------------------------------------

async function importApi(): Promise<OpenTelemetryApi> {
  try {
    return (await import('@opentelemetry/api')) as unknown as OpenTelemetryApi;
  } catch (cause) {
    throw new ConfigError({
      setting: 'TracingMiddleware',
      message: 'cannot load @opentelemetry/api: install it (`npm i @opentelemetry/api`) or pass `api`',
      cause,
    });
  }
}

/** The launch's context from the carrier in `meta`; the active context when there is none. */
function launchContext(api: OpenTelemetryApi, carrier: unknown): unknown {
  if (typeof carrier !== 'object' || carrier === null) return api.context.active();
  const headers = carrier as Record<string, string>;
  const extracted = api.propagation.extract(api.ROOT_CONTEXT as never, headers);
  if (api.trace.getSpanContext(extracted as never) !== undefined) return extracted;
  const parsed = fromTraceparent(headers.traceparent);
  return parsed === undefined
    ? api.context.active()
    : api.trace.setSpanContext(extracted as never, parsed as never);
}

function recordFailure(span: OpenTelemetrySpan, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: STATUS_ERROR, message: exception.message });
}

function toTraceparent(spanContext: OpenTelemetrySpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function fromTraceparent(value: unknown): OpenTelemetrySpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value);
  if (match === null) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  };
}
