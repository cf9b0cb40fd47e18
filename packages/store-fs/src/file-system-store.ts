import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  assertValidKey,
  type ClaimOptions,
  type ClaimResult,
  type Clock,
  ClosedError,
  type ComputationPatch,
  type ComputationRecord,
  type ComputationStore,
  ConfigError,
  type CountQuery,
  KeyExistsError,
  type ListPage,
  type ListQuery,
  type ScheduleRepository,
  type StoreCapabilities,
  systemClock,
  type UpdateOptions,
} from '@au/core';
import {
  applyClaim,
  applyPatch,
  checkOptions,
  isExpired,
  normalizeListQuery,
  optionNames,
} from '@au/core/kit';
import { CorruptRecordError } from './errors/corrupt-record-error';
import { LockTimeoutError } from './errors/lock-timeout-error';
import type { FileSystemStoreOptions } from './file-system-store-options';
import {
  errorCode,
  link,
  readText,
  rename,
  syncDirectory,
  unlinkFile,
  writeNewFile,
} from './internal/file-io';
import { FileScheduleRepository } from './internal/file-schedule-repository';
import { RecordIndex, type RecordRead } from './internal/index/record-index';
import { KeyLocks, type LockToken } from './internal/key-lock';
import { KeyMutex } from './internal/key-mutex';
import { parseRecord } from './internal/parse-record';
import {
  decodeFileName,
  LOCK_SUFFIX,
  RECORD_SUFFIX,
  type RecordPaths,
  recordPaths,
  TEMP_SUFFIX,
} from './internal/record-paths';
import { RecordWatchers } from './internal/record-watchers';
import { forEachLimited, type ShardEntry, scanShards } from './internal/scan-directory';

const NAME = 'fs';

const FILE_SYSTEM_STORE_OPTIONS = optionNames<FileSystemStoreOptions>({
  root: true,
  autoCleanup: true,
  cleanupProbability: true,
  cleanupInterval: true,
  clock: true,
  pollInterval: true,
  fsEvents: true,
  lockTimeout: true,
  lockStaleAfter: true,
  durable: true,
  onCorrupt: true,
});
const COMPONENT = 'store-fs';
const READ_CONCURRENCY = 16;
let tempCounter = 0;

/**
 * Computation records as JSON files under a directory, shared by every process of the
 * machine that opens the same directory, and kept across restarts.
 *
 * - Layout: `<root>/<shard>/<key>.json`, where the shard is two hex digits of a hash of the
 *   key (256 directories, so 100,000 records make about 400 files a directory).
 * - Writes are atomic: the new text goes to a temporary file in the same directory, which
 *   then replaces the record file by `rename(2)` (or, for `create`, is hard-linked to it,
 *   which fails when the key exists). A reader sees the old file or the new one, never a
 *   part of one, and a process killed mid-write leaves at most a `.tmp` file behind.
 * - `update`, `delete` and a `create` over an expired record take the key's lock file
 *   (see `KeyLocks`: an exclusive symlink naming the owner, taken over when its process is
 *   dead or it is older than `lockStaleAfter`), so conditional updates are atomic between
 *   processes. Calls of one process on one key also queue in memory first.
 * - `list` reads only the record files of its page: candidates come from the list index in
 *   `<root>/.index/` (see `RecordIndex`), which every write announces before the record file
 *   changes and confirms after, and each candidate is checked against its file.
 * - `cleanupExpired` reads every record file. Corrupt or foreign files met by `list` or
 *   `cleanupExpired` are skipped and reported to `onCorrupt`. `get`/`update`/`create` on
 *   such a key throw `CorruptRecordError`; `delete` removes the file.
 * - `watch`: writes of this instance are pushed at once; other processes' writes are seen
 *   through `fs.watch` on the shard directory, with polling every `pollInterval` as the net.
 */
export class FileSystemStore implements ComputationStore {
  readonly name = NAME;
  readonly capabilities: StoreCapabilities = { watch: true, shared: true, nativeTtl: false };
  /** Absolute path of the directory holding the records. */
  readonly root: string;
  /** `fs:<root>`: every FileSystemStore over this directory is the same store. */
  readonly id: string;
  readonly #clock: Clock;
  readonly #autoCleanup: boolean;
  readonly #cleanupProbability: number;
  readonly #cleanupInterval: number;
  readonly #durable: boolean;
  readonly #lockStaleAfter: number;
  readonly #onCorrupt: (error: CorruptRecordError) => void;
  readonly #locks: KeyLocks;
  readonly #mutex = new KeyMutex();
  readonly #watchers: RecordWatchers;
  readonly #index: RecordIndex;
  /** Schedules of core's `StoreScheduler`, in `<root>/.schedules/`, shared like the records. */
  readonly schedules: ScheduleRepository;
  #useHardLinks = true;
  #closed = false;
  #lastCleanup = Number.NEGATIVE_INFINITY;
  #cleanupRunning: Promise<void> | undefined;

  constructor(options: FileSystemStoreOptions = {}) {
    checkOptions(`[${NAME}] FileSystemStore`, options, FILE_SYSTEM_STORE_OPTIONS);
    this.root = resolve(options.root ?? join(tmpdir(), 'au-computations'));
    this.id = `fs:${this.root}`;
    this.#clock = options.clock ?? systemClock;
    this.#autoCleanup = options.autoCleanup ?? true;
    this.#cleanupProbability = checkNumber('cleanupProbability', options.cleanupProbability ?? 0.01, 0, 1);
    this.#cleanupInterval = checkNumber('cleanupInterval', options.cleanupInterval ?? 60_000, 0);
    this.#durable = options.durable ?? false;
    this.#lockStaleAfter = checkNumber('lockStaleAfter', options.lockStaleAfter ?? 30_000, 1);
    this.#locks = new KeyLocks({
      timeout: checkNumber('lockTimeout', options.lockTimeout ?? 10_000, 0),
      staleAfter: this.#lockStaleAfter,
    });
    this.#onCorrupt = options.onCorrupt ?? warnOncePerFile();
    this.schedules = new FileScheduleRepository({
      root: this.root,
      locks: this.#locks,
      durable: this.#durable,
      assertOpen: () => this.#assertOpen(),
    });
    this.#watchers = new RecordWatchers({
      pollInterval: checkNumber('pollInterval', options.pollInterval ?? 500, 1),
      fsEvents: options.fsEvents ?? true,
      onCorrupt: (error) => this.#onCorrupt(error),
    });
    this.#index = new RecordIndex({
      root: this.root,
      staleAfter: this.#lockStaleAfter,
      durable: this.#durable,
      scanRecords: () => this.#scanRecords(),
      repair: (key) => this.#repairIndex(key),
      onRebuilt: (message) => process.emitWarning(message, { code: 'AU_INDEX_REBUILT' }),
    });
    try {
      fs.mkdirSync(this.root, { recursive: true });
    } catch (error) {
      throw new ConfigError({
        setting: 'FileSystemStore root',
        message: `cannot create the directory "${this.root}" (${(error as Error).message}): choose a writable path`,
        cause: error,
      });
    }
  }

  // ---- Reading --------------------------------------------------------------------

  async get(key: string): Promise<ComputationRecord | undefined> {
    const paths = this.#open(key);
    const current = await this.#read(paths);
    if (current === undefined || isExpired(current.record, this.#clock.now())) return undefined;
    return current.record;
  }

  async list(query?: ListQuery): Promise<ListPage> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    this.#maybeCleanup();
    return this.#index.page(normalized, this.#clock.now(), (key) => this.#readForList(key));
  }

  /** Counted from the list index, without reading record files. */
  async count(query?: CountQuery): Promise<number> {
    this.#assertOpen();
    return this.#index.count(normalizeListQuery(query), this.#clock.now());
  }

  watch(key: string, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    this.#assertOpen();
    assertValidKey(key, COMPONENT);
    return this.#watchers.watch(recordPaths(this.root, key), signal);
  }

  // ---- Writing --------------------------------------------------------------------

  async create(record: ComputationRecord): Promise<void> {
    const paths = this.#open(record.key);
    const text = JSON.stringify(record);
    const temp = await this.#writeTemp(paths, text);
    let consumed = false;
    try {
      // Announced before the record file can appear, so that list never misses it.
      await this.#index.willWrite(record, true);
      if (this.#useHardLinks) {
        try {
          // Fails with EEXIST when the key has a file: an atomic create-if-absent.
          await link(temp, paths.file);
          if (this.#durable) await syncDirectory(paths.directory);
          await this.#index.written(record);
          this.#watchers.published(paths, text);
          return;
        } catch (error) {
          const code = errorCode(error);
          if (code !== 'EEXIST') {
            if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP')
              throw error;
            this.#useHardLinks = false;
          }
        }
      }
      // The key has a file (maybe expired), or hard links are not available: decide under the lock.
      await this.#locked(paths, async () => {
        const current = await this.#read(paths);
        if (current !== undefined && !isExpired(current.record, this.#clock.now())) {
          throw new KeyExistsError({ key: record.key, store: COMPONENT });
        }
        await this.#commit(temp, paths);
        consumed = true;
        await this.#index.written(record);
        this.#watchers.published(paths, text);
      });
    } finally {
      if (!consumed) await unlinkFile(temp).catch(() => undefined);
    }
  }

  async update(
    key: string,
    patch: ComputationPatch,
    options: UpdateOptions = {},
  ): Promise<ComputationRecord | undefined> {
    const paths = this.#open(key);
    return this.#locked(paths, async (token) => {
      const current = await this.#read(paths);
      if (current === undefined || isExpired(current.record, this.#clock.now())) return undefined;
      const next = applyPatch(current.record, patch, options.ifStatus, options.reopen === true);
      if (next === undefined) return undefined;
      await this.#replace(paths, token, next);
      return next;
    });
  }

  /** The executor's claim under one lock: one read and one write instead of two reads. */
  async claim(key: string, options: ClaimOptions): Promise<ClaimResult> {
    const paths = this.#open(key);
    return this.#locked(paths, async (token): Promise<ClaimResult> => {
      const current = await this.#read(paths);
      if (current === undefined || isExpired(current.record, this.#clock.now())) {
        return { claimed: false, record: undefined };
      }
      const next = applyClaim(current.record, options);
      if (next === undefined) return { claimed: false, record: current.record };
      await this.#replace(paths, token, next);
      return { claimed: true, record: next };
    });
  }

  async delete(key: string): Promise<boolean> {
    const paths = this.#open(key);
    return this.#locked(paths, async () => {
      let live: boolean;
      try {
        const current = await this.#read(paths);
        if (current === undefined) return false;
        live = !isExpired(current.record, this.#clock.now());
      } catch (error) {
        if (!CorruptRecordError.isInstance(error)) throw error;
        live = true; // deleting is how a corrupt file is cleared
      }
      const removed = await unlinkFile(paths.file);
      if (removed) await this.#index.deleted(key);
      return removed && live;
    });
  }

  // ---- Housekeeping ---------------------------------------------------------------

  async cleanupExpired(now: number = this.#clock.now()): Promise<number> {
    this.#assertOpen();
    return this.#cleanup(now);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.closeAll();
    await this.#cleanupRunning;
    await this.#index.close();
  }

  // ---- private helpers ------------------------------------------------------------

  /** Writes the record's new version over the file, while holding its lock. */
  async #replace(paths: RecordPaths, token: LockToken, next: ComputationRecord): Promise<void> {
    const text = JSON.stringify(next);
    const temp = await this.#writeTemp(paths, text);
    try {
      await this.#locks.assertHeld(token);
      await this.#index.willWrite(next, false);
      await this.#commit(temp, paths);
    } catch (error) {
      await unlinkFile(temp).catch(() => undefined);
      throw error;
    }
    await this.#index.written(next);
    this.#watchers.published(paths, text);
  }

  /** Checks the store is open and the key valid, maybe starts a cleanup; the key's paths. */
  #open(key: string): RecordPaths {
    this.#assertOpen();
    assertValidKey(key, COMPONENT);
    const paths = recordPaths(this.root, key);
    this.#maybeCleanup();
    return paths;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError({ component: `${COMPONENT} ${this.root}` });
  }

  async #read(paths: RecordPaths): Promise<{ record: ComputationRecord; text: string } | undefined> {
    const text = await readText(paths.file);
    if (text === undefined) return undefined;
    return { record: parseRecord(text, paths.file, paths.key), text };
  }

  /** A record file as `list` sees it: corrupt files are reported here. */
  async #readForList(key: string): Promise<RecordRead> {
    try {
      const current = await this.#read(recordPaths(this.root, key));
      return current === undefined ? { missing: true } : { record: current.record };
    } catch (error) {
      if (!CorruptRecordError.isInstance(error)) throw error;
      this.#onCorrupt(error);
      return { corrupt: true };
    }
  }

  /** Every record file of the directory, for building the list index. */
  async #scanRecords(): Promise<ComputationRecord[]> {
    const entries = (await scanShards(this.root)).filter((entry) => entry.name.endsWith(RECORD_SUFFIX));
    const records: ComputationRecord[] = [];
    await forEachLimited(entries, READ_CONCURRENCY, async (entry) => {
      const record = await this.#readEntry(entry);
      if (record !== undefined) records.push(record);
    });
    return records;
  }

  /** Rewrites a key's index entry from its record file, under the key's lock. */
  async #repairIndex(key: string): Promise<void> {
    if (this.#closed) return;
    const paths = recordPaths(this.root, key);
    try {
      await this.#locked(paths, async () => {
        const current = await this.#read(paths).catch((error: unknown) => {
          if (CorruptRecordError.isInstance(error)) return 'corrupt' as const;
          throw error;
        });
        if (current !== 'corrupt') await this.#index.settle(key, current?.record);
      });
    } catch (error) {
      if (!LockTimeoutError.isInstance(error)) throw error; // busy: its writer settles it
    }
  }

  /** A record found by a directory scan, or `undefined` (gone, or corrupt: reported). */
  async #readEntry(entry: ShardEntry): Promise<ComputationRecord | undefined> {
    const text = await readText(entry.path).catch((error: unknown) => {
      if (errorCode(error) === 'EISDIR') return undefined;
      throw error;
    });
    if (text === undefined) return undefined;
    const key = decodeFileName(entry.name);
    try {
      const record = parseRecord(text, entry.path, key);
      if (recordPaths(this.root, record.key).file !== entry.path) {
        throw new CorruptRecordError({
          file: entry.path,
          key,
          problem: `holds the record of key "${record.key}", whose file is elsewhere (a copied or foreign file)`,
        });
      }
      return record;
    } catch (error) {
      if (!CorruptRecordError.isInstance(error)) throw error;
      this.#onCorrupt(error);
      return undefined;
    }
  }

  /** Runs `work` holding the key: first in this process, then between processes. */
  #locked<T>(paths: RecordPaths, work: (token: LockToken) => Promise<T>): Promise<T> {
    return this.#mutex.run(paths.key, async () => {
      const token = await this.#locks.acquire(paths.key, paths.lock, paths.directory);
      try {
        return await work(token);
      } finally {
        await this.#locks.release(token);
      }
    });
  }

  /** Writes `text` to a new temporary file beside the record file; its path. */
  async #writeTemp(paths: RecordPaths, text: string): Promise<string> {
    for (;;) {
      tempCounter = (tempCounter + 1) % 0x7fffffff;
      const temp = `${paths.file}.${process.pid}-${tempCounter}${TEMP_SUFFIX}`;
      try {
        await writeNewFile(temp, text, this.#durable);
        return temp;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') await fs.promises.mkdir(paths.directory, { recursive: true });
        else if (code !== 'EEXIST') throw error; // EEXIST: left by a dead process with our pid
      }
    }
  }

  /** Moves a written temporary file onto the record file, atomically. */
  async #commit(temp: string, paths: RecordPaths): Promise<void> {
    await rename(temp, paths.file);
    if (this.#durable) await syncDirectory(paths.directory);
  }

  #maybeCleanup(): void {
    if (!this.#autoCleanup || this.#cleanupRunning !== undefined) return;
    const now = this.#clock.now();
    if (now - this.#lastCleanup < this.#cleanupInterval) return;
    if (Math.random() >= this.#cleanupProbability) return;
    this.#lastCleanup = now;
    this.#cleanupRunning = this.#cleanup(now).then(
      () => {
        this.#cleanupRunning = undefined;
      },
      (error: unknown) => {
        this.#cleanupRunning = undefined;
        process.emitWarning(`[au] [store-fs] automatic cleanup of "${this.root}" failed: ${String(error)}`, {
          code: 'AU_CLEANUP_FAILED',
        });
      },
    );
  }

  async #cleanup(now: number): Promise<number> {
    const entries = await scanShards(this.root);
    let removed = 0;
    await forEachLimited(entries, READ_CONCURRENCY, async (entry) => {
      if (this.#closed) return; // a background run stops at close
      if (entry.name.endsWith(RECORD_SUFFIX)) {
        if (await this.#removeIfExpired(entry, now)) removed += 1;
      } else if (entry.name.endsWith(TEMP_SUFFIX) || entry.name.endsWith('.stale')) {
        // Left by a process killed mid-write: no write takes anywhere near lockStaleAfter.
        const stats = await fs.promises.lstat(entry.path).catch(() => undefined);
        if (stats !== undefined && Date.now() - stats.mtimeMs > this.#lockStaleAfter) {
          await unlinkFile(entry.path).catch(() => undefined);
        }
      } else if (entry.name.endsWith(LOCK_SUFFIX)) {
        await this.#locks.removeIfStale(entry.path).catch(() => undefined);
      }
    });
    this.#index.maintain();
    return removed;
  }

  async #removeIfExpired(entry: ShardEntry, now: number): Promise<boolean> {
    const record = await this.#readEntry(entry);
    if (record === undefined || !isExpired(record, now)) return false;
    const paths = recordPaths(this.root, record.key);
    try {
      return await this.#locked(paths, async () => {
        const current = await this.#read(paths).catch(() => undefined);
        if (current === undefined || !isExpired(current.record, now)) return false;
        const removed = await unlinkFile(paths.file);
        if (removed) await this.#index.deleted(paths.key);
        return removed;
      });
    } catch (error) {
      if (LockTimeoutError.isInstance(error)) return false; // busy: the next cleanup gets it
      throw error;
    }
  }
}

function checkNumber(setting: string, value: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigError({
      setting: `FileSystemStore ${setting}`,
      message: `must be a number ${range}, got ${String(value)}`,
    });
  }
  return value;
}

function warnOncePerFile(): (error: CorruptRecordError) => void {
  const reported = new Set<string>();
  return (error) => {
    if (reported.has(error.file)) return;
    reported.add(error.file);
    process.emitWarning(error.message, { code: error.code });
  };
}
