import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The real job server in a child process, as `npx pnpm@10 start` runs it. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(
  env: Record<string, string>,
  args: string[] = [],
  timeout = 80_000,
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--conditions=@au/source', '--import', 'tsx', MAIN, ...args], {
    env: { ...withoutNodeEnv(process.env), AU_HOST: '127.0.0.1', AU_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the job server exited early (${child.exitCode}):\n${output}`);
    const up = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the job server did not start within ${timeout} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** `job-server worker` in a child process; resolves once it logs that it waits for work. */
export async function startWorkerProcess(
  env: Record<string, string>,
  timeout = 80_000,
): Promise<Omit<ServerProcess, 'url'>> {
  const child = spawn(process.execPath, ['--conditions=@au/source', '--import', 'tsx', MAIN, 'worker'], {
    // At info, so that it says when it waits for work.
    env: { ...withoutNodeEnv(process.env), ...env, AU_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the worker did not start within ${timeout} ms:\n${output}`)),
      timeout,
    );
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('waiting for work')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited early (${code}):\n${output}`));
    });
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  try {
    await started;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * The environment without vitest's `NODE_ENV=test`, which would choose the `test`
 * preset (a virtual clock) for the server: it runs as its users run it.
 */
export function withoutNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_ENV: _nodeEnv, ...rest } = env;
  return rest;
}
