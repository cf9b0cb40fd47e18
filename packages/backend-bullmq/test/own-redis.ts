import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface OwnRedisOptions {
  /**
   * A directory for an append-only file written with `fsync` at every write: a restart
   * on the same directory finds every write acknowledged before the kill. Without it the
   * server keeps nothing.
   */
  appendOnlyDirectory?: string;
}

/** A redis-server of one test, on a free port, so the shared Redis is never stopped. */
export class OwnRedis {
  #process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly options: OwnRedisOptions,
  ) {}

  /** Picks a free port; `start` launches the server on it (again after a `kill`). */
  static async create(options: OwnRedisOptions = {}): Promise<OwnRedis> {
    return new OwnRedis(await freePort(), options);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const directory = this.options.appendOnlyDirectory;
    const persistence =
      directory === undefined
        ? ['--save', '', '--appendonly', 'no']
        : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', directory];
    this.#process = spawn('redis-server', ['--port', String(this.port), ...persistence], { stdio: 'ignore' });
    const probe = new Redis(this.url, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => undefined);
    for (let tries = 0; tries < 200; tries++) {
      try {
        await probe.connect();
        // Loading the append-only file answers LOADING until done.
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`[test] redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL: no shutdown, no last save. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
