import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuClient, AuHttpError, type InferTasks, type TaskEvent } from '@au/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as sampleTasks from '../src/sample-tasks';
import { type ServerProcess, startServerProcess } from './server-process';

type SampleTasks = InferTasks<typeof sampleTasks>;

const API_KEY = 'e2e-secret-key';

// The real server (fs store in a temporary directory, threads backend) driven by the
// client over HTTP, then stopped and started again on the same directory.
describe('job-server end to end', { timeout: 120_000 }, () => {
  let dataDir: string;
  let server: ServerProcess;
  let client: AuClient<SampleTasks>;
  const env = () => ({
    AU_STORE: `fs:${dataDir}`,
    AU_BACKEND: 'threads',
    AU_CONCURRENCY: '2',
    AU_API_KEYS: API_KEY,
    AU_LOG_LEVEL: 'warn',
    AU_SHUTDOWN_TIMEOUT_MS: '1000',
    AU_BODY_LIMIT: '65536',
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'au-job-server-e2e-'));
    server = await startServerProcess(env());
    client = new AuClient<SampleTasks>({ url: server.url, apiKey: API_KEY });
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const finished: { factorial?: string; failed?: string; interrupted?: string } = {};

  it('should compute a factorial exactly and answer it within the wait', async () => {
    const outcome = await client.submit('factorial', { n: 30 }, { wait: 30 });
    expect(outcome).toMatchObject({ status: 'completed', result: '265252859812191058636308480000000' });
    finished.factorial = outcome.taskId;
  });

  it('should stream progress events of a sleep until it completes', async () => {
    const { taskId } = await client.submit('sleep', { seconds: 1 }, { async: true });
    const events: TaskEvent[] = [];
    for await (const event of client.events(taskId)) events.push(event);
    expect(events.at(-1)?.task.status).toBe('completed');
    expect(events.filter((event) => event.type === 'progress').length).toBeGreaterThan(0);
    expect(await client.result(taskId)).toEqual({ taskId, status: 'completed', result: { slept: 1 } });
  });

  it('should cancel a running sleep', async () => {
    const { taskId } = await client.submit('sleep', { seconds: 60 }, { async: true });
    for await (const event of client.events(taskId)) if (event.task.status === 'running') break;
    expect(await client.cancel(taskId)).toEqual({ taskId, cancelled: true, status: 'cancelled' });
    expect(await client.result(taskId)).toMatchObject({
      status: 'cancelled',
      error: { name: 'CancelledError' },
    });
  });

  it('should report a failing task with its error and no stack', async () => {
    const outcome = await client.submit('fail', { message: 'as designed' }, { wait: 30 });
    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'SAMPLE_FAILURE', message: 'as designed' },
    });
    finished.failed = outcome.taskId;
    expect(outcome.status === 'failed' ? outcome.error : undefined).not.toHaveProperty('stack');
  });

  it('should answer every bad request with 4xx JSON and keep serving', async () => {
    const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
    const bad: [string, string, string, Record<string, string>, string | undefined, number][] = [
      ['malformed JSON', 'POST', '/factorial', auth, '{"n":', 400],
      ['a wrong type', 'POST', '/factorial', auth, '{"n":"ten"}', 400],
      ['a number out of range', 'POST', '/factorial', auth, '{"n":-1}', 400],
      ['a missing field', 'POST', '/sleep', auth, '{}', 400],
      [
        'an oversize body',
        'POST',
        '/factorial',
        auth,
        JSON.stringify({ n: 1, pad: 'x'.repeat(100_000) }),
        413,
      ],
      ['an unknown task', 'POST', '/rm-rf', auth, '{}', 404],
      ['a malformed id', 'GET', '/tasks/..%2F..%2Fetc', auth, undefined, 400],
      ['a malformed id on cancel', 'DELETE', '/tasks/a%20b', auth, undefined, 400],
      ['an unknown id', 'GET', '/tasks/01a208de-0000-7000-8000-000000000000/result', auth, undefined, 404],
      ['no API key', 'POST', '/factorial', { 'content-type': 'application/json' }, '{"n":3}', 401],
      ['a wrong API key', 'GET', '/tasks', { authorization: 'Bearer guess' }, undefined, 401],
    ];
    for (const [name, method, path, headers, body, status] of bad) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      expect(response.status, name).toBe(status);
      expect(response.headers.get('content-type'), name).toContain('application/json');
      const json = (await response.json()) as { error: { code: string; message: string } };
      expect(typeof json.error.code, name).toBe('string');
      expect(json.error.message, name).not.toMatch(/\n\s+at /);
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await client.submit('factorial', { n: 5 }, { wait: 30 })).status).toBe('completed');
    const error = await client.status('no-such-task').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuHttpError);
  });

  it('should stop gracefully, then serve the kept results and report unfinished work honestly', async () => {
    const { taskId } = await client.submit('sleep', { seconds: 120 }, { async: true });
    for await (const event of client.events(taskId)) if (event.task.status === 'running') break;
    finished.interrupted = taskId;
    expect(await server.stop('SIGTERM')).toBe(0);

    server = await startServerProcess(env());
    client = new AuClient<SampleTasks>({ url: server.url, apiKey: API_KEY });
    expect(await client.result(finished.factorial!)).toMatchObject({
      status: 'completed',
      result: '265252859812191058636308480000000',
    });
    expect(await client.result(finished.failed!)).toMatchObject({ status: 'failed' });
    const interrupted = await client.status(taskId);
    expect(['cancelled', 'failed']).toContain(interrupted.status);
    expect(interrupted.error?.message).toBeTruthy();
    const listed = await client.list({ status: ['pending', 'running'] });
    expect(listed.items).toEqual([]);
    expect((await client.submit('factorial', { n: 10 }, { wait: 30 })).status).toBe('completed');
  });

  it('should report work lost in a crash as failed by a stopped server after a restart', async () => {
    const { taskId } = await client.submit('sleep', { seconds: 120 }, { async: true });
    for await (const event of client.events(taskId)) if (event.task.status === 'running') break;
    await server.stop('SIGKILL');

    server = await startServerProcess(env());
    client = new AuClient<SampleTasks>({ url: server.url, apiKey: API_KEY });
    const outcome = await client.result(taskId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AU_SERVER_STOPPED' } });
    expect(outcome.status === 'failed' ? outcome.error.message : '').toContain('the server stopped before');
    expect(await client.result(finished.factorial!)).toMatchObject({ status: 'completed' });
  });

  it('should keep a schedule across a restart and fire the ticks it missed (catch-up)', async () => {
    const every = 1000;
    const created = await client.createSchedule({
      id: 'e2e-factorial',
      task: 'factorial',
      input: { n: 4 },
      every,
      overlap: 'allow',
      catchUp: 60_000,
    });
    expect(created).toMatchObject({ id: 'e2e-factorial', paused: false });
    const ticksOf = async () => {
      const { items } = await client.list({ tag: 'schedule:e2e-factorial', limit: 1000 });
      return items.map((item) => Number(item.taskId.split(':').pop())).sort((a, b) => a - b);
    };
    const waitForTicks = async (check: (ticks: number[]) => boolean) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ticks = await ticksOf();
        if (check(ticks)) return ticks;
        if (Date.now() > deadline) throw new Error(`ticks so far: ${ticks.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await waitForTicks((ticks) => ticks.length >= 1);
    expect(await server.stop('SIGTERM')).toBe(0);
    const stoppedAt = Date.now();

    server = await startServerProcess(env());
    client = new AuClient<SampleTasks>({ url: server.url, apiKey: API_KEY });
    expect(await client.schedule('e2e-factorial')).toMatchObject({
      id: 'e2e-factorial',
      every,
      paused: false,
    });
    const ticks = await waitForTicks((found) => (found.at(-1) ?? 0) > stoppedAt + every);
    for (let index = 1; index < ticks.length; index++) expect(ticks[index]! - ticks[index - 1]!).toBe(every);
    await client.deleteSchedule('e2e-factorial');
  });
});
