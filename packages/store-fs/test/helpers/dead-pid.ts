import { spawnSync } from 'node:child_process';

/** The pid of a process that has already exited: the owner of a lock left by a crash. */
export function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(result.stdout.toString());
}
