import { randomUUID } from 'node:crypto';
import { BullMQBackend, startBullMQWorker } from '@au/backend-bullmq';
import { asyncCompute, defineTask } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { Redis } from 'ioredis';

const N = Number(process.argv[2] ?? 300);
const marks: Record<string, number> = {};
const mark = (name: string) => { marks[name] = performance.now(); };
const double = defineTask({ name: 'bench.double', run: ({ n }: { n: number }) => { mark('task'); return n * 2; } });
const run = randomUUID().slice(0, 8);
const prefix = `lat-${run}`;
const url = 'redis://127.0.0.1:6379';
const store = new RedisStore({ redis: url, prefix });
const workerStore = new RedisStore({ redis: url, prefix });
const wrap = (obj: any, name: string, label: string) => {
  const orig = obj[name].bind(obj);
  obj[name] = async (...args: unknown[]) => { mark(`${label}>`); try { return await orig(...args); } finally { mark(`${label}<`); } };
};
wrap(store, 'create', 'create');
wrap(workerStore, 'claim', 'claim');
wrap(workerStore, 'update', 'update');
const backend = new BullMQBackend({ connection: url, queue: `lat-${run}` });
wrap(backend, 'launch', 'launch');
const worker = await startBullMQWorker({ connection: url, queue: `lat-${run}`, store: workerStore, tasks: [double], concurrency: 50 });
const compute = asyncCompute(double, { store, backend });
const ping = new Redis(url);
const rows: Record<string, number>[] = [];
for (let i = 0; i < N; i++) {
  for (const k of Object.keys(marks)) delete marks[k];
  const t0 = performance.now();
  const handle = await compute({ n: i });
  mark('launched');
  await handle.result({ timeout: 10000 });
  mark('result');
  const row: Record<string, number> = {};
  for (const [k, v] of Object.entries(marks)) row[k] = v - t0;
  rows.push(row);
}
const p0 = performance.now(); for (let i = 0; i < 200; i++) await ping.ping(); const rtt = (performance.now() - p0) / 200;
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const keys = Object.keys(rows.at(-1)!);
const medians = keys.map((k) => [k, med(rows.slice(20).map((r) => r[k] ?? NaN))] as const).sort((a, b) => a[1] - b[1]);
for (const [k, v] of medians) console.log(k.padEnd(10), v.toFixed(3));
console.log('ping rtt', rtt.toFixed(3));
await worker.close(); await backend.queue.obliterate({ force: true }); await backend.close(); ping.disconnect();
process.exit(0);
