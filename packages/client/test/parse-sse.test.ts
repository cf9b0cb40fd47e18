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

  describe('when a stream ends without a blank line', () => {
    it('should drop the unfinished message', async () => {
      expect(await collect(['data: complete\n\ndata: partial'])).toEqual([
        { id: undefined, event: 'message', data: 'complete' },
      ]);
    });
  });
});
