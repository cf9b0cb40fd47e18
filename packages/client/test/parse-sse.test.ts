import { describe, expect, it } from 'vitest';
import { parseServerSentEvents } from '../src/index';

async function collect(chunks: string[]) {
  const encoder = new TextEncoder();
  async function* body() {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const events = [];
  for await (const event of parseServerSentEvents(body())) events.push(event);
  return events;
}

describe('parseServerSentEvents', () => {
  describe('when messages are split across chunks', () => {
    it('should join lines and skip comments and retry', async () => {
      const events = await collect([
        'retry: 2000\n\n: keep-alive\n\nid: 1.running.-\nev',
        'ent: status\ndata: {"a":',
        '1}\n\nid: 2\ndata: line one\ndata: line two\n\n',
      ]);
      expect(events).toEqual([
        { id: '1.running.-', event: 'status', data: '{"a":1}' },
        { id: '2', event: 'message', data: 'line one\nline two' },
      ]);
    });
  });

  describe('when a CRLF line ending is split between two chunks', () => {
    it('should read one line end, so the two data lines make one message', async () => {
      expect(await collect(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual([
        { id: undefined, event: 'message', data: 'a\nb' },
      ]);
    });
  });

  describe('when a later message has no id', () => {
    it('should carry the last id over, as EventSource does', async () => {
      expect(await collect(['id: 4\ndata: x\n\ndata: y\n\n'])).toEqual([
        { id: '4', event: 'message', data: 'x' },
        { id: '4', event: 'message', data: 'y' },
      ]);
    });
  });

  describe('when a stream ends without a blank line', () => {
    it('should drop the unfinished message', async () => {
      expect(await collect(['data: complete\n\ndata: partial'])).toEqual([
        { id: undefined, event: 'message', data: 'complete' },
      ]);
    });
  });

  describe('when the body is a stream that is not async-iterable (as in Safari)', () => {
    it('should read it through a reader and release the lock', async () => {
      const chunks = ['id: 7\ndata: hello\n', '\n'].map((text) => new TextEncoder().encode(text));
      let released = false;
      const body = {
        getReader: () => ({
          read: async () =>
            chunks.length > 0 ? { value: chunks.shift()!, done: false } : { value: undefined, done: true },
          releaseLock: () => {
            released = true;
          },
        }),
      } as unknown as ReadableStream<Uint8Array>;
      const events = [];
      for await (const event of parseServerSentEvents(body)) events.push(event);
      expect(events).toEqual([{ id: '7', event: 'message', data: 'hello' }]);
      expect(released).toBe(true);
    });
  });
});
