import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, countUp, parseEventStream, type SentEvent as StreamEvent } from './fixtures';

type Built = Awaited<ReturnType<typeof buildApp>>;

type SentEvent = StreamEvent<{ status: string; progress?: number }>;
const parse = (body: string): SentEvent[] => parseEventStream(body);

const TO = 50;

describe('@au/http GET /tasks/{id}/events order', () => {
  for (const [name, progressInterval] of [
    ['when progress writes are coalesced', 100],
    ['when every progress is written', 0],
  ] as const) {
    describe(`${name} and the task returns at once after its last progress`, () => {
      let built: Built;
      beforeAll(async () => {
        built = await buildApp({ tasks: [countUp] }, { progressInterval });
      });
      afterAll(async () => {
        await built.app.close();
        await built.backend.close();
        await built.store.close();
      });

      it('should send the last progress before the terminal status, and end after it', async () => {
        const { taskId } = (
          await built.app.inject({
            method: 'POST',
            url: '/count-up?async=true',
            payload: { to: TO, after: 200 },
          })
        ).json();
        // `inject` resolves once the server ends the stream.
        const response = await built.app.inject(`/tasks/${taskId}/events`);
        const events = parse(response.body);
        expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'completed', progress: TO } });
        const terminalAt = events.findIndex((event) =>
          ['completed', 'failed', 'cancelled'].includes(event.data.status),
        );
        expect(terminalAt).toBe(events.length - 1);
        const progress = events.filter((event) => event.event === 'progress');
        expect(progress.at(-1)?.data).toMatchObject({ status: 'running', progress: TO });
        const values = progress.map((event) => event.data.progress!);
        for (let index = 1; index < values.length; index++)
          expect(values[index]).toBeGreaterThan(values[index - 1]!);
        expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
      });
    });
  }
});
