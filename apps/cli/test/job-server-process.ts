import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (tsx is installed there). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_MAIN = fileURLToPath(new URL('../../job-server/src/main.ts', import.meta.url));
export const CLI_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const TS_EXEC_ARGV = ['--conditions=@au/source', '--import', 'tsx'];

export interface JobServerProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the real job server (`apps/job-server/src/main.ts`) on a free port with a
 * memory store and the inline backend, and resolves with its URL once it listens.
 */
export async function startJobServer(env: Record<string, string> = {}): Promise<JobServerProcess> {
  const child = spawn(process.execPath, [...TS_EXEC_ARGV, SERVER_MAIN], {
    cwd: REPO_ROOT,
    env: {
      // Not vitest's NODE_ENV=test: it would choose the `test` preset (a virtual clock).
      ...withoutNodeEnv(process.env),
      AU_HOST: '127.0.0.1',
      AU_PORT: '0',
      AU_STORE: 'memory',
      AU_BACKEND: 'inline',
      AU_LOG_LEVEL: 'info',
      AU_EXPOSE_STACKS: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`the job server did not start within 45 s:\n${output}`)),
      45_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`the job server exited with ${code}:\n${output}`)));
  });
  child.removeAllListeners('exit');
  child.stdout!.resume();
  child.stderr!.resume();
  return { url, stop: () => stopProcess(child) };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs the `au` program itself (from source) and collects what it printed. */
export function runProgram(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  { timeout = 30_000 }: { timeout?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_EXEC_ARGV, CLI_MAIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...withoutNodeEnv(process.env), NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`au ${args.join(' ')} did not end within ${timeout} ms:\n${stdout}\n${stderr}`));
    }, timeout);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment without `NODE_ENV`, so the job server picks its preset as its users' would. */
export function withoutNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_ENV: _nodeEnv, ...rest } = env;
  return rest;
}
