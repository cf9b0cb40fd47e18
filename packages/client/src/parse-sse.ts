import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One message of a `text/event-stream`. */
export interface ServerSentEvent {
  /** The stream's last event id as of this message (ids carry over, as in `EventSource`). */
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body with `eventsource-parser` (WHATWG HTML §9.2, including a
 * `\r\n` split across two chunks); comments and `retry` are skipped, and an unfinished message
 * at the end of the body is dropped.
 */
export async function* parseServerSentEvents(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  const parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => parsed.push(message) });
  let id: string | undefined;
  for await (const chunk of chunksOf(body)) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    for (const message of parsed.splice(0)) {
      if (message.id !== undefined) id = message.id;
      yield { id, event: message.event || 'message', data: message.data };
    }
  }
}

/** The chunks of a body; through a reader where a browser's streams are not async-iterable (Safari). */
async function* chunksOf(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in body) {
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
