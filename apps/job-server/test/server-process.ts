import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from '@au/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** A job server command (`start`, `worker`) in a child process, as `npx pnpm@10 start` runs it. */
export interface JobServerChild {
  child: ChildProcess;
  output: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The real job server in a child process, answering HTTP at `url`. */
export interface ServerProcess extends JobServerChild {
  url: string;
}

/** Spawns `main.ts` with `args` and `env`, collecting what it prints. */
function spawnMain(args: string[], env: NodeJS.ProcessEnv): JobServerChild {
  const child = spawn(process.execPath, ['--conditions=@au/source', '--import', 'tsx', MAIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `ready` until it holds; SIGKILLs the child and throws when it exits or `timeout` passes. */
async function untilReady(
  started: JobServerChild,
  what: string,
  ready: () => Promise<boolean> | boolean,
  timeout: number,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (started.child.exitCode !== null)
      throw new Error(`the ${what} exited early (${started.child.exitCode}):\n${started.output()}`);
    if (await ready()) return;
    if (Date.now() > deadline) {
      started.child.kill('SIGKILL');
      throw new Error(`the ${what} did not start within ${timeout} ms:\n${started.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startServerProcess(
  env: Record<string, string>,
  args: string[] = [],
  timeout = 80_000,
): Promise<ServerProcess> {
  const port = await freePort();
  const started = spawnMain(args, {
    ...withoutNodeEnv(process.env),
    AU_HOST: '127.0.0.1',
    AU_PORT: String(port),
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await untilReady(
    started,
    'job server',
    () =>
      fetch(`${url}/healthz`).then(
        (response) => response.ok,
        () => false,
      ),
    timeout,
  );
  return { ...started, url };
}

/** `job-server worker` in a child process; resolves once it logs that it waits for work. */
export async function startWorkerProcess(
  env: Record<string, string>,
  timeout = 80_000,
): Promise<JobServerChild> {
  // At info, so that it says when it waits for work.
  const started = spawnMain(['worker'], { ...withoutNodeEnv(process.env), ...env, AU_LOG_LEVEL: 'info' });
  await untilReady(started, 'worker', () => started.output().includes('waiting for work'), timeout);
  return started;
}

/**
 * The environment without vitest's `NODE_ENV=test`, which would choose the `test`
 * preset (a virtual clock) for the server: it runs as its users run it.
 */
export function withoutNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_ENV: _nodeEnv, ...rest } = env;
  return rest;
}
