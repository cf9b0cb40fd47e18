import { afterEach, describe, expect, it } from 'vitest';
import { asyncCompute, ComputationFailedError, MemoryStore, type SerializedError } from '../src/index';
import {
  PooledBackend,
  type PoolRequest,
  type PoolResponse,
  type PoolTransport,
  type PoolTransportContext,
  reviveError,
  WorkerAttempt,
} from '../src/kit';
import * as tasks from './fixtures/pool-tasks';

const modules = [new URL('./fixtures/pool-tasks.ts', import.meta.url)];
const byName = new Map(Object.values(tasks).map((task) => [task.name, task]));

class FakeCrashError extends Error {
  override readonly name = 'FakeCrashError';
}

/** Runs each attempt on this event loop, as a worker would; records what the backend asks of it. */
class FakeTransport implements PoolTransport {
  readonly started: number[] = [];
  readonly aborted: number[] = [];
  readonly killed: number[] = [];
  readonly size = 1;
  readonly #running = new Map<number, { attempt: WorkerAttempt; reject(error: Error): void }>();
  readonly #context: PoolTransportContext;

  constructor(context: PoolTransportContext) {
    this.#context = context;
  }

  run(request: PoolRequest): Promise<PoolResponse> {
    this.started.push(request.id);
    if (request.task === tasks.crash.name) return Promise.reject(new Error('the worker died'));
    return new Promise((resolve, reject) => {
      const attempt = new WorkerAttempt(request, {
        post: (event) => this.#context.onEvent(event),
        component: 'fake',
        place: 'fake worker',
      });
      this.#running.set(request.id, { attempt, reject });
      Promise.resolve(attempt.run(byName.get(request.task)!))
        .then(resolve)
        .finally(() => this.#running.delete(request.id));
    });
  }

  runBatch(requests: PoolRequest[]): Promise<PoolResponse[]> {
    return Promise.all(requests.map((request) => this.run(request)));
  }

  abort(id: number, reason: SerializedError): void {
    this.aborted.push(id);
    this.#running.get(id)?.attempt.abort(reviveError(reason));
  }

  kill(id: number): void {
    this.killed.push(id);
    this.#running.get(id)?.reject(new Error('killed'));
  }

  async close(): Promise<void> {}

  crashError(attempt: { task: string; key: string }, cause: unknown): Error {
    return new FakeCrashError(`task "${attempt.task}" crashed its fake worker: ${(cause as Error).message}`);
  }

  diedIn(): number | undefined {
    return undefined;
  }
}

class FakePooledBackend extends PooledBackend<FakeTransport> {
  constructor(cancelGracePeriod: number) {
    super({
      name: 'fake',
      className: 'FakePooledBackend',
      workers: 'fake workers',
      options: { tasks: modules, concurrency: 1, cancelGracePeriod, progressInterval: 1 },
      createTransport: (context) => new FakeTransport(context),
    });
  }

  get fake(): FakeTransport {
    return this.transport;
  }
}

describe('PooledBackend', () => {
  const opened: PooledBackend[] = [];
  const open = (cancelGracePeriod = 50) => {
    const backend = new FakePooledBackend(cancelGracePeriod);
    opened.push(backend);
    return backend;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((backend) => backend.close({ timeout: 1000 })));
  });

  describe('when it is built', () => {
    it('should refuse an empty list of task modules, naming the class', () => {
      expect(
        () =>
          new PooledBackend({
            name: 'fake',
            className: 'FakePooledBackend',
            workers: 'fake workers',
            options: { tasks: [] },
            createTransport: (context) => new FakeTransport(context),
          }),
      ).toThrow(
        /\[au\] \[fake\] `tasks` is empty: give the task modules the fake workers load, e.g. new FakePooledBackend/,
      );
    });
  });

  describe('when a task runs in a worker', () => {
    it('should return its result and route its progress to the record', async () => {
      const store = new MemoryStore();
      const double = asyncCompute(tasks.double, { store, backend: open() });
      const handle = await double(21);
      expect(await handle.result({ timeout: 5000 })).toBe(42);
      expect(await handle.progress()).toBe('halfway');
    });
  });

  describe('when a cancel reaches a task that ignores its signal', () => {
    it('should abort it, then kill its worker after the grace period, and record the cancel', async () => {
      const backend = open();
      const stubborn = asyncCompute(tasks.stubborn, { store: new MemoryStore(), backend });
      const handle = await stubborn(undefined);
      await waitFor(() => backend.fake.started.length === 1);
      expect(await handle.cancel('stop')).toBe(true);
      await waitFor(() => backend.fake.killed.length === 1);
      expect(backend.fake.aborted).toEqual(backend.fake.started);
      expect(backend.fake.killed).toEqual(backend.fake.started);
      await waitFor(() => backend.runningCount === 0);
      expect(await handle.status()).toBe('cancelled');
    });
  });

  describe('when a cancel reaches a cooperative task', () => {
    it('should abort it and never kill its worker', async () => {
      const backend = open(60_000);
      const cooperative = asyncCompute(tasks.cooperative, { store: new MemoryStore(), backend });
      const handle = await cooperative(undefined);
      await waitFor(() => backend.fake.started.length === 1);
      expect(await handle.cancel('enough')).toBe(true);
      await waitFor(() => backend.runningCount === 0);
      expect(backend.fake.aborted).toHaveLength(1);
      expect(backend.fake.killed).toEqual([]);
      expect(await handle.status()).toBe('cancelled');
    });
  });

  describe('when the worker dies on its own', () => {
    it("should fail the computation with the transport's crash error and keep serving", async () => {
      const store = new MemoryStore();
      const backend = open();
      const crash = asyncCompute(tasks.crash, { store, backend });
      const error = await (await crash(undefined))
        .result({ timeout: 5000 })
        .catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('FakeCrashError');
      expect((error as ComputationFailedError).remoteMessage).toContain('the worker died');
      const double = asyncCompute(tasks.double, { store, backend });
      expect(await (await double(2)).result({ timeout: 5000 })).toBe(4);
    });
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
