// FileSystemStore against the same file operations written plainly, in one run:
// for each of N records, create → update(running) → update(completed) → get.
//   plain: writeFile(JSON) to a temp file + rename for each write, readFile + JSON.parse to read
//   au:    FileSystemStore (per-key lock, conditional update, atomic rename, checks)
// The records are done in 4 rounds that alternate which side goes first, so that a change
// of load on the machine during the run weighs on both sides alike; the times are summed.
// Usage: pnpm bench store-fs [records=10000] [concurrency=8]
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComputationRecord } from '@au/core';
// Imported by path: the root package does not depend on @au/store-fs.
import { FileSystemStore } from '@au/store-fs';

const records = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 8);
const rounds = 4;

function makeRecord(index: number, prefix: string): ComputationRecord {
  return {
    key: `${prefix}-${index.toString().padStart(6, '0')}`,
    task: 'bench',
    status: 'pending',
    args: { n: index },
    attempt: 0,
    maxAttempts: 1,
    createdAt: Date.now(),
  };
}

async function inLanes(from: number, to: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) await work(next++);
    }),
  );
}

interface Side {
  run(from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

async function plain(root: string): Promise<Side> {
  // 256 shard directories like the store, so both sides write to directories of the same size.
  const shards = 256;
  for (let shard = 0; shard < shards; shard++) await mkdir(join(root, shard.toString(16).padStart(2, '0')));
  let counter = 0;
  const write = async (file: string, value: unknown) => {
    const temp = `${file}.${process.pid}-${++counter}.tmp`;
    await writeFile(temp, JSON.stringify(value));
    await rename(temp, file);
  };
  const run = (from: number, to: number) =>
    inLanes(from, to, async (index) => {
      const record = makeRecord(index, 'plain');
      const file = join(root, (index % shards).toString(16).padStart(2, '0'), `${record.key}.json`);
      await write(file, record);
      const running = { ...record, status: 'running', attempt: 1, startedAt: Date.now() };
      await write(file, running);
      await write(file, { ...running, status: 'completed', value: index * 2, finishedAt: Date.now() });
      const read = JSON.parse(await readFile(file, 'utf8')) as ComputationRecord;
      if (read.status !== 'completed') throw new Error('plain: lost a write');
    });
  return { run, close: async () => {} };
}

async function au(root: string): Promise<Side> {
  const store = new FileSystemStore({ root });
  const run = (from: number, to: number) =>
    inLanes(from, to, async (index) => {
      const record = makeRecord(index, 'au');
      await store.create(record);
      await store.update(
        record.key,
        { status: 'running', attempt: 1, startedAt: Date.now() },
        { ifStatus: ['pending'] },
      );
      await store.update(
        record.key,
        { status: 'completed', value: index * 2, finishedAt: Date.now() },
        { ifStatus: ['running'] },
      );
      const read = await store.get(record.key);
      if (read?.status !== 'completed') throw new Error('au: lost a write');
    });
  return { run, close: () => store.close() };
}

const plainRoot = mkdtempSync(join(tmpdir(), 'au-bench-plain-'));
const auRoot = mkdtempSync(join(tmpdir(), 'au-bench-fs-'));
try {
  const sides = { plain: await plain(plainRoot), au: await au(auRoot) };
  const elapsed = { plain: 0, au: 0 };
  const perRound = Math.ceil(records / rounds);
  for (let round = 0; round < rounds; round++) {
    const from = round * perRound;
    const to = Math.min(records, from + perRound);
    const order: (keyof typeof sides)[] = round % 2 === 0 ? ['plain', 'au'] : ['au', 'plain'];
    for (const name of order) {
      const started = performance.now();
      await sides[name].run(from, to);
      elapsed[name] += performance.now() - started;
    }
  }
  await sides.au.close();
  const plainMs = elapsed.plain;
  const auMs = elapsed.au;
  const rate = (ms: number) => Math.round((records / ms) * 1000);
  console.log(
    `records: ${records}, each create → update(running) → update(completed) → get; ${concurrency} at a time`,
  );
  console.log(
    `plain files (writeFile + rename, readFile + JSON.parse): ${rate(plainMs)} records/s (${plainMs.toFixed(0)} ms)`,
  );
  console.log(
    `FileSystemStore:                                         ${rate(auMs)} records/s (${auMs.toFixed(0)} ms)`,
  );
  console.log(`ratio au / plain: ${(plainMs / auMs).toFixed(2)} (goal ≥ 0.5)`);
} finally {
  rmSync(plainRoot, { recursive: true, force: true });
  rmSync(auRoot, { recursive: true, force: true });
}
