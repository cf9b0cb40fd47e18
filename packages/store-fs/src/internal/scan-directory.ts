import * as fs from 'node:fs';
import { join } from 'node:path';
import { errorCode } from './file-io';
import { SHARD_PATTERN } from './record-paths';

/** One file found in a shard directory. */
export interface ShardEntry {
  shard: string;
  directory: string;
  name: string;
  path: string;
}

/** Every file of every shard directory under `root` (other entries of `root` are ignored). */
export async function scanShards(root: string): Promise<ShardEntry[]> {
  let shards: string[];
  try {
    shards = (await fs.promises.readdir(root)).filter((name) => SHARD_PATTERN.test(name));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const entries: ShardEntry[] = [];
  await forEachLimited(shards, 8, async (shard) => {
    const directory = join(root, shard);
    let names: string[];
    try {
      names = await fs.promises.readdir(directory);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for (const name of names) entries.push({ shard, directory, name, path: join(directory, name) });
  });
  return entries;
}

/** Runs `work` on each item with at most `limit` at a time; rejects with the first error. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
