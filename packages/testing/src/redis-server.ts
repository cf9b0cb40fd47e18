import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from './free-port';

export interface RedisServerOptions {
  /**
   * A directory for an append-only file written with `fsync` at every write: a restart
   * on the same directory finds every write acknowledged before the kill, as a Redis
   * with persistence would after an outage. Without it the server keeps nothing.
   */
  appendOnlyDirectory?: string;
}

/**
 * A `redis-server` of one test on a free port, to stop and start at will (an outage, a
 * restart) without touching the Redis every other suite shares. Needs `redis-server` on
 * the PATH.
 *
 * @example
 * const redis = await RedisServer.create();
 * await redis.start();
 * // ... point a store or a worker at redis.url, then:
 * await redis.kill();   // Redis is gone
 * await redis.start();  // and back (empty, unless appendOnlyDirectory is set)
 */
export class RedisServer {
  #process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly options: RedisServerOptions,
  ) {}

  /** Picks a free port; `start` launches the server on it (again after a `kill`). */
  static async create(options: RedisServerOptions = {}): Promise<RedisServer> {
    return new RedisServer(await freePort(), options);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and resolves once it answers `PING` (after loading its append-only file). */
  async start(): Promise<void> {
    const directory = this.options.appendOnlyDirectory;
    const persistence =
      directory === undefined
        ? ['--save', '', '--appendonly', 'no']
        : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', directory];
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', ...persistence],
      { stdio: 'ignore' },
    );
    this.#process = child;
    const failed = once(child, 'error').then(([error]) => {
      throw new Error(`[au] [testing] could not start redis-server: ${(error as Error).message}`);
    });
    failed.catch(() => undefined);
    for (let tries = 0; tries < 200; tries++) {
      if (await Promise.race([answersPing(this.port), failed])) return;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`[au] [testing] redis-server did not answer on port ${this.port}`);
  }

  /** SIGKILL: no shutdown, no last save (what is in the append-only file stays). */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** Whether a server on `port` answers `PING` with `PONG` (a loading server answers `-LOADING`). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
