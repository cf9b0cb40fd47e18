// The crash scenario of the resume tests, shared by the in-process (resume.test.ts) and
// threads (threads.test.ts) variants: a child process runs the crash graph on a
// FileSystemStore, is SIGKILLed mid-run, and this process resumes the graph.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComputationBackend } from '@au/core';
import { FileSystemStore } from '@au/store-fs';
import { expect } from 'vitest';
import { TaskGraph } from '../../src/index';
import { defineCrashGraph } from '../fixtures/crash-graph';

export const crashTasksUrl = new URL('../fixtures/crash-graph.ts', import.meta.url);
const repositoryRoot = fileURLToPath(new URL('../../../..', import.meta.url));

async function waitUntil(check: () => Promise<boolean>, timeout: number): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs the scenario; `makeBackend` builds the backend of the resuming side. Cleanups are
 * pushed to `cleanups` (run them in afterEach).
 */
export async function runCrashScenario(
  backendName: 'in-process' | 'threads',
  makeBackend: () => ComputationBackend,
  cleanups: (() => Promise<unknown>)[],
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'au-workflow-crash-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const key = `crash-${backendName}-${Date.now()}`;
  const child = fork(
    fileURLToPath(new URL('../fixtures/crash-orchestrator.ts', import.meta.url)),
    [root, key, '20000', backendName],
    {
      cwd: repositoryRoot,
      execArgv: ['--conditions=@au/source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, AU_WF_SLOW: '1' },
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const store = new FileSystemStore({ root, autoCleanup: false });
  cleanups.push(() => store.close());
  const status = async (id: string) => (await store.get(`${key}:${id}`))?.status;
  await waitUntil(
    async () =>
      (await status('mid-0')) === 'completed' &&
      (await status('mid-1')) === 'running' &&
      (await status('mid-2')) === 'running' &&
      (await status('mid-3')) === 'running',
    40_000,
  );
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  expect((await store.get(key))?.status).toBe('running');
  expect(await status('last')).toBeUndefined();

  const backend = makeBackend();
  cleanups.push(() => backend.close({ timeout: 2000 }));
  const graph = await TaskGraph.resume(store, key, {
    backend,
    define: (g) => defineCrashGraph(g, 20000),
  });
  const results = await graph.run();
  const pidOf = (id: string) => (results.get(id) as { pid: number }).pid;
  expect(pidOf('first')).toBe(child.pid);
  expect(pidOf('mid-0')).toBe(child.pid);
  for (const id of ['mid-1', 'mid-2', 'mid-3', 'last']) expect(pidOf(id)).toBe(process.pid);
  expect(results.get('last')).toEqual({ n: 1 + 2 + 3 + 4, pid: process.pid });
  // Each orphan ran again as a fresh computation with the args the dead process
  // computed; the orphan itself ended cancelled, its reason naming its successor.
  const summary = await graph.handle.result();
  for (const id of ['mid-1', 'mid-2', 'mid-3']) {
    const relaunched = `${key}:${id}:relaunch-2`;
    expect(summary.nodes[id]).toEqual({ key: relaunched, status: 'completed' });
    expect(graph.nodes.find((node) => node.id === id)?.key).toBe(relaunched);
    const orphan = await store.get(`${key}:${id}`);
    expect(orphan).toMatchObject({ status: 'cancelled', attempt: 1 });
    expect(orphan?.error?.reason).toBe(
      `the orchestrator of graph "${key}" stopped before node "${id}" ended; resume launched it again as "${relaunched}"`,
    );
    expect(await store.get(relaunched)).toMatchObject({
      status: 'completed',
      attempt: 1,
      parent: key,
      meta: { node: id, relaunchOf: `${key}:${id}` },
    });
  }
  expect((await store.get(`${key}:mid-2:relaunch-2`))?.args).toEqual({ n: 3, ms: 20000 });
  expect(summary.nodes.last?.key).toBe(`${key}:last`);
  expect((await store.get(key))?.meta?.relaunches).toEqual({
    'mid-1': [`${key}:mid-1:relaunch-2`],
    'mid-2': [`${key}:mid-2:relaunch-2`],
    'mid-3': [`${key}:mid-3:relaunch-2`],
  });
  expect(await graph.handle.status()).toBe('completed');
  expect(await graph.handle.progress()).toEqual({
    done: 6,
    total: 6,
    completed: 6,
    failed: 0,
    cancelled: 0,
  });
}
