import * as fs from 'node:fs';
import { join } from 'node:path';
import { type ComputationRecord, isTerminalStatus } from '@au/core';
import { createPushIterable, type PushIterable } from '@au/core/kit';
import { CorruptRecordError } from '../errors/corrupt-record-error';
import { readText } from './file-io';
import { parseRecord } from './parse-record';
import { RECORD_SUFFIX, type RecordPaths } from './record-paths';

export interface RecordWatchersSettings {
  pollInterval: number;
  fsEvents: boolean;
  onCorrupt: (error: CorruptRecordError) => void;
}

interface Subscription {
  paths: RecordPaths;
  iterable: PushIterable<ComputationRecord>;
  /** Text of the last version pushed (or seen when the watch began). */
  last: string | undefined;
  /** Bumped by every write of this process, so a slower read of the file cannot push an older version. */
  generation: number;
  reading: boolean;
  dirty: boolean;
}

interface DirectoryWatch {
  watcher: fs.FSWatcher | undefined;
  subscriptions: number;
}

/**
 * `watch` for the file-system store. A version is seen in one of three ways:
 * - a write of this store instance pushes it at once (every version, in order);
 * - `fs.watch` on the shard directory reports a rename onto the record file (writes of
 *   other processes), and the file is read again;
 * - every `pollInterval` the file is read again (the safety net, and the only way when
 *   file-system events are off or unavailable).
 * Reads of one subscription never overlap, and a version is pushed only when its text
 * differs from the last one pushed. Versions written by other processes faster than they
 * are read may be skipped; the terminal version never is, since it is the last.
 */
export class RecordWatchers {
  readonly #settings: RecordWatchersSettings;
  readonly #byFile = new Map<string, Set<Subscription>>();
  readonly #directories = new Map<string, DirectoryWatch>();

  constructor(settings: RecordWatchersSettings) {
    this.#settings = settings;
  }

  watch(paths: RecordPaths, signal: AbortSignal | undefined): AsyncIterable<ComputationRecord> {
    fs.mkdirSync(paths.directory, { recursive: true });
    this.#watchDirectory(paths.directory);
    let subscriptions = this.#byFile.get(paths.file);
    if (subscriptions === undefined) {
      subscriptions = new Set();
      this.#byFile.set(paths.file, subscriptions);
    }
    const set = subscriptions;
    const timer = setInterval(() => void this.#check(subscription), this.#settings.pollInterval);
    const onAbort = () => iterable.end();
    const iterable = createPushIterable<ComputationRecord>(() => {
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      set.delete(subscription);
      if (set.size === 0 && this.#byFile.get(paths.file) === set) this.#byFile.delete(paths.file);
      this.#unwatchDirectory(paths.directory);
    });
    const subscription: Subscription = {
      paths,
      iterable,
      last: readBaseline(paths.file),
      generation: 0,
      reading: false,
      dirty: false,
    };
    set.add(subscription);
    if (signal?.aborted) iterable.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return iterable;
  }

  /** A write of this store instance: push it to the watchers of that record. */
  published(paths: RecordPaths, text: string): void {
    const subscriptions = this.#byFile.get(paths.file);
    if (subscriptions === undefined) return;
    for (const subscription of [...subscriptions]) {
      subscription.generation += 1;
      this.#offer(subscription, text, JSON.parse(text) as ComputationRecord);
    }
  }

  /** Ends every watch (the store closes). */
  closeAll(): void {
    for (const subscriptions of [...this.#byFile.values()]) {
      for (const subscription of [...subscriptions]) subscription.iterable.end();
    }
    for (const directory of this.#directories.values()) directory.watcher?.close();
    this.#directories.clear();
  }

  // ---- private helpers ------------------------------------------------------------

  #offer(subscription: Subscription, text: string, record: ComputationRecord): void {
    if (subscription.iterable.ended || text === subscription.last) return;
    subscription.last = text;
    subscription.iterable.push(record);
    if (isTerminalStatus(record.status)) subscription.iterable.end();
  }

  async #check(subscription: Subscription): Promise<void> {
    if (subscription.reading) {
      subscription.dirty = true;
      return;
    }
    subscription.reading = true;
    try {
      do {
        subscription.dirty = false;
        const generation = subscription.generation;
        const text = await readText(subscription.paths.file).catch(() => undefined);
        if (subscription.iterable.ended) return;
        if (generation !== subscription.generation) {
          subscription.dirty = true; // a local write came meanwhile: this read may be older
          continue;
        }
        if (text === undefined || text === subscription.last) continue;
        let record: ComputationRecord;
        try {
          record = parseRecord(text, subscription.paths.file, subscription.paths.key);
        } catch (error) {
          subscription.last = text;
          if (CorruptRecordError.isInstance(error)) this.#settings.onCorrupt(error);
          continue;
        }
        this.#offer(subscription, text, record);
      } while (subscription.dirty && !subscription.iterable.ended);
    } finally {
      subscription.reading = false;
    }
  }

  #watchDirectory(directory: string): void {
    const existing = this.#directories.get(directory);
    if (existing !== undefined) {
      existing.subscriptions += 1;
      return;
    }
    const entry: DirectoryWatch = { watcher: undefined, subscriptions: 1 };
    this.#directories.set(directory, entry);
    if (!this.#settings.fsEvents) return;
    try {
      const watcher = fs.watch(directory, (_event, fileName) => this.#onEvent(directory, fileName));
      watcher.on('error', () => {
        watcher.close();
        entry.watcher = undefined; // polling goes on
      });
      entry.watcher = watcher;
    } catch {
      // No file-system events here (e.g. out of inotify watches): polling goes on.
    }
  }

  #unwatchDirectory(directory: string): void {
    const entry = this.#directories.get(directory);
    if (entry === undefined) return;
    entry.subscriptions -= 1;
    if (entry.subscriptions > 0) return;
    entry.watcher?.close();
    this.#directories.delete(directory);
  }

  #onEvent(directory: string, fileName: string | Buffer | null): void {
    const name = fileName === null ? undefined : fileName.toString();
    if (name !== undefined) {
      if (!name.endsWith(RECORD_SUFFIX)) return;
      for (const subscription of this.#byFile.get(join(directory, name)) ?? [])
        void this.#check(subscription);
      return;
    }
    for (const subscriptions of this.#byFile.values()) {
      for (const subscription of subscriptions) {
        if (subscription.paths.directory === directory) void this.#check(subscription);
      }
    }
  }
}

function readBaseline(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
