import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PluginState } from '../plugin-state';

/**
 * The headers of a `text/event-stream` answer, which keep proxies from buffering it; a
 * `HEAD` on a stream route answers with them at once.
 */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** An open server-sent event stream: one per `GET …/events` request. */
export interface SseStream {
  /** Aborts when the client goes away or the server closes. */
  readonly signal: AbortSignal;
  /** The client's `Last-Event-ID` header, when it reconnects. */
  readonly lastEventId: string | undefined;
  /** Sends one event; `id` is what the client sends back as `Last-Event-ID` on reconnect. */
  send(event: { id?: string; event: string; data: unknown }): void;
  /** Sends an `error` event saying the stream failed (logged, never a stack trace). */
  fail(error: unknown, context: Record<string, unknown>): void;
  /** Stops the heartbeat and ends the response. */
  end(): void;
}

/**
 * Takes over the response and opens a `text/event-stream`: headers that keep proxies from
 * buffering, a `retry` hint, a comment every `heartbeatInterval` so idle connections stay
 * open, and a signal that aborts when the client leaves or the server shuts down.
 */
export function openSseStream(request: FastifyRequest, reply: FastifyReply, state: PluginState): SseStream {
  const header = request.headers['last-event-id'];
  const controller = new AbortController();
  const abort = () => controller.abort();
  state.shutdown.signal.addEventListener('abort', abort, { once: true });
  reply.raw.once('close', abort);

  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, { ...SSE_HEADERS, connection: 'keep-alive' });
  response.write('retry: 2000\n\n');
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), state.heartbeatInterval);
  heartbeat.unref();

  return {
    signal: controller.signal,
    lastEventId: typeof header === 'string' && header !== '' ? header : undefined,
    send({ id, event, data }) {
      if (response.writableEnded) return;
      response.write(
        `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
      );
    },
    fail(error, context) {
      if (controller.signal.aborted || response.writableEnded) return;
      request.log.warn({ err: error, ...context }, 'event stream ended by an error');
      const message = JSON.stringify({ error: { code: 'STREAM_ERROR', message: 'the event stream failed' } });
      response.write(`event: error\ndata: ${message}\n\n`);
    },
    end() {
      clearInterval(heartbeat);
      state.shutdown.signal.removeEventListener('abort', abort);
      response.off('close', abort);
      if (!response.writableEnded) response.end();
    },
  };
}
