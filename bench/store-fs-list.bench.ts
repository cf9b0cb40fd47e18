// FileSystemStore.list at growing sizes: how long `list({ limit: 1 })` and
// `list({ status: 'running', limit: 10 })` take with 1k, 10k and 30k records on disk.
//   first: the first list of a store newly opened on the directory (loads the index)
//   warm:  the median of 20 later calls on that store
// Records are written through the store (1 in 100 left running, the rest completed), so the
// directory looks like a job server's after a day of work.
// Usage: pnpm bench store-fs-list [sizes=1000,10000,30000] [concurrency=8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComputationRecord, ListQuery } from '@au/core';
// Imported by path: the root package does not depend on @au/store-fs.
import { FileSystemStore } from '@au/store-fs';

const sizes = (process.argv[2] ?? '1000,10000,30000').split(',').map(Number);
const concurrency = Number(process.argv[3] ?? 8);
const warmCalls = 20;

function makeRecord(index: number): ComputationRecord {
  const running = index % 100 === 0;
  return {
    key: `list-${index.toString().padStart(6, '0')}`,
    task: 'bench',
    status: running ? 'running' : 'completed',
    args: { n: index },
    value: running ? undefined : index * 2,
    attempt: 1,
    maxAttempts: 1,
    createdAt: Date.now(),
    expiresAt: Date.now() + 86_400_000,
  };
}

async function fill(store: FileSystemStore, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) await store.create(makeRecord(next++));
    }),
  );
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const root = mkdtempSync(join(tmpdir(), 'au-bench-fs-list-'));
try {
  const writer = new FileSystemStore({ root, autoCleanup: false });
  let written = 0;
  console.log(`list of FileSystemStore; ${warmCalls} warm calls each, median shown`);
  for (const size of sizes) {
    await fill(writer, written, size);
    written = size;
    const store = new FileSystemStore({ root, autoCleanup: false });
    const queries: [string, ListQuery][] = [
      ['list({ limit: 1 })', { limit: 1 }],
      ["list({ status: 'running', limit: 10 })", { status: 'running', limit: 10 }],
    ];
    for (const [label, query] of queries) {
      const first = await time(() => store.list(query));
      const warm: number[] = [];
      for (let call = 0; call < warmCalls; call++) warm.push(await time(() => store.list(query)));
      console.log(
        `${String(size).padStart(6)} records  ${label.padEnd(40)} first ${first.toFixed(1).padStart(8)} ms   warm ${median(warm).toFixed(2).padStart(8)} ms`,
      );
    }
    await store.close();
  }
  await writer.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
