import fs from 'node:fs';
import { join } from 'node:path';
import { assertValidKey, type ScheduleRepository, type ScheduleState } from '@au/core';
import { errorCode, readText, rename, syncDirectory, unlinkFile, writeNewFile } from './file-io';
import type { KeyLocks } from './key-lock';
import { KeyMutex } from './key-mutex';
import { encodeKey, LOCK_SUFFIX, RECORD_SUFFIX, TEMP_SUFFIX } from './record-paths';

/** Directory of the schedules, beside the record shards (which `cleanupExpired` scans; this it does not). */
export const SCHEDULES_DIRECTORY = '.schedules';

let tempCounter = 0;

/**
 * Schedules of a `FileSystemStore` as JSON files in `<root>/.schedules/`, one per id.
 * `save` decides its condition and writes under the id's lock file (the store's
 * `KeyLocks`), replacing the file by `rename(2)`, so firers in several processes agree.
 */
export class FileScheduleRepository implements ScheduleRepository {
  readonly #directory: string;
  readonly #locks: KeyLocks;
  readonly #durable: boolean;
  readonly #mutex = new KeyMutex();
  readonly #assertOpen: () => void;

  constructor(options: { root: string; locks: KeyLocks; durable: boolean; assertOpen: () => void }) {
    this.#directory = join(options.root, SCHEDULES_DIRECTORY);
    this.#locks = options.locks;
    this.#durable = options.durable;
    this.#assertOpen = options.assertOpen;
  }

  async get(id: string): Promise<ScheduleState | undefined> {
    this.#assertOpen();
    assertValidKey(id, 'store-fs');
    return this.#read(this.#file(id));
  }

  async list(): Promise<ScheduleState[]> {
    this.#assertOpen();
    let names: string[];
    try {
      names = await fs.promises.readdir(this.#directory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
    const states = await Promise.all(
      names
        .filter((name) => name.endsWith(RECORD_SUFFIX))
        .map((name) => this.#read(join(this.#directory, name))),
    );
    return states.filter((state): state is ScheduleState => state !== undefined);
  }

  async save(state: ScheduleState, expected?: number | null): Promise<boolean> {
    this.#assertOpen();
    assertValidKey(state.id, 'store-fs');
    const file = this.#file(state.id);
    return this.#locked(state.id, file, async () => {
      const current = await this.#read(file);
      if (expected === null && current !== undefined) return false;
      if (typeof expected === 'number' && current?.revision !== expected) return false;
      tempCounter = (tempCounter + 1) % 0x7fffffff;
      const temp = `${file}.${process.pid}-${tempCounter}${TEMP_SUFFIX}`;
      await writeNewFile(temp, JSON.stringify(state), this.#durable);
      try {
        await rename(temp, file);
      } catch (error) {
        await unlinkFile(temp).catch(() => undefined);
        throw error;
      }
      if (this.#durable) await syncDirectory(this.#directory);
      return true;
    });
  }

  async delete(id: string): Promise<boolean> {
    this.#assertOpen();
    assertValidKey(id, 'store-fs');
    const file = this.#file(id);
    return this.#locked(id, file, () => unlinkFile(file));
  }

  // ---- private helpers ------------------------------------------------------------

  #file(id: string): string {
    return join(this.#directory, encodeKey(id) + RECORD_SUFFIX);
  }

  async #read(file: string): Promise<ScheduleState | undefined> {
    const text = await readText(file);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ScheduleState;
    } catch {
      // Files are replaced by rename, so a bad one was written by something else.
      process.emitWarning(`[au] [store-fs] the schedule file "${file}" is not JSON: it is ignored`, {
        code: 'AU_CORRUPT_SCHEDULE',
      });
      return undefined;
    }
  }

  async #locked<T>(id: string, file: string, work: () => Promise<T>): Promise<T> {
    await fs.promises.mkdir(this.#directory, { recursive: true });
    return this.#mutex.run(id, async () => {
      const token = await this.#locks.acquire(id, file + LOCK_SUFFIX, this.#directory);
      try {
        return await work();
      } finally {
        await this.#locks.release(token);
      }
    });
  }
}
