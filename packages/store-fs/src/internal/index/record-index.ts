import { join } from 'node:path';
import type { ComputationRecord, ListPage } from '@au/core';
import { encodeCursor, isExpired, matchesListQuery, type NormalizedListQuery } from '@au/core/kit';
import { LockTimeoutError } from '../../errors/lock-timeout-error';
import { errorCode, unlinkFile } from '../file-io';
import { KeyLocks } from '../key-lock';
import { attributesOf } from './index-attributes';
import {
  createLog,
  INDEX_DIRECTORY,
  listGenerations,
  logPath,
  readSnapshot,
  removeGenerations,
  sealLog,
  writeSnapshot,
} from './index-files';
import {
  encodeHeader,
  encodeLine,
  type IndexLine,
  LINE_START,
  parseLine,
  parseSnapshotHeader,
} from './index-line';
import { ListIndex } from './list-index';
import { LogAppender } from './log-appender';
import { LogFollower, readLogId } from './log-follower';

/** What the store finds in a record file for `page`. */
export type RecordRead = { record: ComputationRecord } | { missing: true } | { corrupt: true };

export interface RecordIndexSettings {
  /** The store's directory; the index lives in `<root>/.index/`. */
  root: string;
  /** The store's `lockStaleAfter`: no write takes longer, so older announcements failed. */
  staleAfter: number;
  /** Flush each announcement before the record file is written (the store's `durable`). */
  durable: boolean;
  /** Every record of the directory, read from its file (corrupt files reported and skipped). */
  scanRecords(): Promise<ComputationRecord[]>;
  /** Rewrites a key's entry from its record file, holding the key's lock (calls `settle`). */
  repair(key: string): Promise<void>;
  /** Told when the index was built from the record files, and why. */
  onRebuilt(message: string): void;
  /** A log with more lines than this (and than there are keys) is compacted. @default 20_000 */
  compactAfterLines?: number;
}

interface Reader {
  index: ListIndex;
  follower: LogFollower;
}

const READ_BATCH = 64;
const INDEX_LOCK_STALE_AFTER = 10 * 60_000;

class CorruptIndexError extends Error {}

/**
 * The list index of a `FileSystemStore` (see its README): an append-only log of record
 * versions shared by every process, read incrementally into a sorted index in memory,
 * compacted into snapshots, and rebuilt from the record files when missing or corrupt.
 *
 * Writers call `willWrite` before a record file changes and `written` / `deleted` after;
 * `page` serves `list`, reading only the record files of the page (plus stale candidates).
 */
export class RecordIndex {
  readonly #settings: RecordIndexSettings;
  readonly #directory: string;
  readonly #lockPath: string;
  readonly #waitingLocks: KeyLocks;
  readonly #tryLocks: KeyLocks;
  readonly #compactAfterLines: number;
  #appender: Promise<LogAppender> | undefined;
  #reader: Promise<Reader> | undefined;
  #catchingUp: Promise<Reader> | undefined;
  #compacting = false;
  readonly #background = new Set<Promise<unknown>>();
  readonly #repairing = new Set<string>();

  constructor(settings: RecordIndexSettings) {
    this.#settings = settings;
    this.#directory = join(settings.root, INDEX_DIRECTORY);
    this.#lockPath = join(settings.root, `${INDEX_DIRECTORY}.lock`);
    const staleAfter = Math.max(settings.staleAfter, INDEX_LOCK_STALE_AFTER);
    this.#waitingLocks = new KeyLocks({ timeout: staleAfter, staleAfter });
    this.#tryLocks = new KeyLocks({ timeout: 0, staleAfter });
    this.#compactAfterLines = settings.compactAfterLines ?? 20_000;
  }

  // ---- Writing --------------------------------------------------------------------

  /** Announces the version about to be written; the record file must not change if this throws. */
  async willWrite(record: ComputationRecord, create: boolean): Promise<void> {
    const line: IndexLine = {
      op: 'will-set',
      key: record.key,
      attributes: attributesOf(record),
      at: Date.now(),
      create,
    };
    await this.#append(encodeLine(line), this.#settings.durable);
  }

  /** Confirms a version written. Never throws: a lost confirmation is settled by `page`. */
  async written(record: ComputationRecord): Promise<void> {
    await this.#appendQuietly({ op: 'set', key: record.key, attributes: attributesOf(record) });
  }

  /** Records that a key's file was removed. Never throws, like `written`. */
  async deleted(key: string): Promise<void> {
    await this.#appendQuietly({ op: 'deleted', key });
  }

  /** Rewrites a key's entry from what its file holds; the caller holds the key's lock. */
  async settle(key: string, record: ComputationRecord | undefined): Promise<void> {
    if (record === undefined) await this.deleted(key);
    else await this.written(record);
  }

  // ---- Reading --------------------------------------------------------------------

  /** A page of `list`: candidates from the index, each checked against its record file. */
  async page(
    query: NormalizedListQuery,
    now: number,
    read: (key: string) => Promise<RecordRead>,
  ): Promise<ListPage> {
    const { index } = await this.#caughtUp();
    const wanted = query.limit + 1; // one more than the page tells whether a next page exists
    const records: ComputationRecord[] = [];
    const candidates = index.candidates(query, now);
    // A key may be a candidate at several positions (a re-created key): read its file once.
    const reads = new Map<string, Promise<RecordRead>>();
    const readOnce = (key: string) => {
      let result = reads.get(key);
      if (result === undefined) {
        result = read(key);
        reads.set(key, result);
      }
      return result;
    };
    let exhausted = false;
    while (!exhausted && records.length < wanted) {
      const batch = [];
      while (batch.length < Math.min(wanted - records.length, READ_BATCH)) {
        const next = candidates.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        batch.push(next.value);
      }
      const results = await Promise.all(batch.map((position) => readOnce(position.key)));
      batch.forEach((position, item) => {
        const result = results[item]!;
        if ('corrupt' in result) return; // reported by the store; the index keeps the key
        const record = 'record' in result ? result.record : undefined;
        if (index.observe(position.key, record === undefined ? undefined : attributesOf(record))) {
          this.#repair(position.key);
        }
        if (
          record !== undefined &&
          record.createdAt === position.createdAt &&
          !isExpired(record, now) &&
          matchesListQuery(record, query)
        ) {
          records.push(record);
        }
      });
    }
    const page = records.slice(0, query.limit);
    const last = page[page.length - 1];
    return records.length > query.limit && last !== undefined
      ? { records: page, cursor: encodeCursor(last) }
      : { records: page };
  }

  /** How many records match `query`, from the index alone (see `ListIndex.count`). */
  async count(query: NormalizedListQuery, now: number): Promise<number> {
    const { index } = await this.#caughtUp();
    return index.count(query, now);
  }

  /** Reads new log lines and compacts when due; only where the index is loaded already. */
  maintain(): void {
    if (this.#reader === undefined) return;
    this.#track(this.#caughtUp());
  }

  /** Waits for background repairs and compactions, then closes the open logs. */
  async close(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    const [appender, reader] = await Promise.allSettled([this.#appender, this.#reader]);
    if (appender.status === 'fulfilled') appender.value?.close();
    if (reader.status === 'fulfilled') await reader.value?.follower.close();
  }

  // ---- private helpers ------------------------------------------------------------

  async #append(text: string, sync: boolean): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const appender = await this.#openAppender();
      if (await appender.append(text, sync)) return;
      // The log chain broke (the index was deleted): open the current one, maybe rebuilt.
      appender.close();
      if (this.#appender !== undefined && (await this.#appender.catch(() => undefined)) === appender) {
        this.#appender = undefined;
      }
    }
    throw new Error(
      `[au] [store-fs] cannot append to the list index in "${this.#directory}": it keeps being replaced`,
    );
  }

  async #appendQuietly(line: IndexLine): Promise<void> {
    try {
      await this.#append(encodeLine(line), false);
    } catch (error) {
      process.emitWarning(
        `[au] [store-fs] could not update the list index for key "${line.key}" (${String(error)}): list repairs it when it reads the record`,
        { code: 'AU_INDEX_WRITE_FAILED' },
      );
    }
  }

  #openAppender(): Promise<LogAppender> {
    this.#appender ??= (async () => {
      for (;;) {
        const { logs } = await listGenerations(this.#directory);
        const newest = logs.at(-1);
        if (newest === undefined) {
          // No index (yet, or any more): build it before the first write.
          this.#replaceReader(this.#load());
          await this.#readerReady();
          continue;
        }
        const appender = await LogAppender.open(this.#directory, newest);
        if (appender !== undefined) return appender;
      }
    })();
    this.#appender.catch(() => {
      this.#appender = undefined;
    });
    return this.#appender;
  }

  #readerReady(): Promise<Reader> {
    this.#reader ??= this.#load();
    this.#reader.catch(() => {
      this.#reader = undefined;
    });
    return this.#reader;
  }

  /** Swaps the loaded index for `next`, closing the old one's log. */
  #replaceReader(next: Promise<Reader>): void {
    const previous = this.#reader;
    this.#reader = next;
    void next.catch(() => {
      if (this.#reader === next) this.#reader = undefined;
    });
    void previous?.then((reader) => reader.follower.close()).catch(() => undefined);
  }

  /** Loads the newest snapshot and its log; builds the index when there is none, or it is corrupt. */
  async #load(): Promise<Reader> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { snapshots } = await listGenerations(this.#directory);
      const newest = snapshots.at(-1);
      if (newest === undefined) return this.#rebuild('missing', undefined);
      const loaded = await this.#loadSnapshot(newest);
      if (loaded === 'corrupt') return this.#rebuild('corrupt', newest);
      if (loaded !== undefined) return loaded;
      // Removed by a compaction meanwhile: look again.
    }
    return this.#rebuild('missing', undefined);
  }

  /** The index at `generation`; `undefined` when its files are gone, `corrupt` when unreadable. */
  async #loadSnapshot(generation: number): Promise<Reader | 'corrupt' | undefined> {
    const text = await readSnapshot(this.#directory, generation);
    if (text === undefined) return undefined;
    const lines = text.split('\n');
    const header = parseSnapshotHeader(lines[0] ?? '');
    if (header === undefined) return 'corrupt';
    const follower = await LogFollower.open(this.#directory, generation, header.log);
    if (follower === undefined) return 'corrupt';
    const index = new ListIndex(this.#settings.staleAfter);
    for (const line of lines.slice(1)) {
      if (line.length === 0) continue;
      const parsed = parseLine(line);
      if (parsed === undefined) {
        await follower.close();
        return 'corrupt';
      }
      index.apply(parsed);
    }
    return { index, follower };
  }

  /**
   * Builds the index from the record files under the index lock (once: a process that
   * waited for the lock loads what the holder built). A new log generation is started
   * before the scan, so writes during the scan are in its log.
   */
  async #rebuild(reason: 'missing' | 'corrupt', seenGeneration: number | undefined): Promise<Reader> {
    const token = await this.#waitingLocks.acquire('the list index', this.#lockPath, this.#settings.root);
    try {
      const { logs, snapshots } = await listGenerations(this.#directory);
      const newestSnapshot = snapshots.at(-1);
      if (newestSnapshot !== undefined && (seenGeneration === undefined || newestSnapshot > seenGeneration)) {
        const loaded = await this.#loadSnapshot(newestSnapshot);
        if (loaded !== undefined && loaded !== 'corrupt') return loaded;
      }
      const started = Date.now();
      const newestLog = logs.at(-1);
      const generation = Math.max(newestLog ?? 0, newestSnapshot ?? 0) + 1;
      const previous = newestLog === undefined ? undefined : await readLogId(this.#directory, newestLog);
      const id = await createLog(this.#directory, generation, previous);
      if (newestLog !== undefined) await sealLog(logPath(this.#directory, newestLog)).catch(ignoreMissing);
      const records = await this.#settings.scanRecords();
      const index = new ListIndex(this.#settings.staleAfter);
      for (const record of records)
        index.apply({ op: 'set', key: record.key, attributes: attributesOf(record) });
      await writeSnapshot(this.#directory, generation, snapshotText(id, index));
      await removeGenerations(this.#directory, { logsBefore: generation, snapshotsBefore: generation });
      const follower = await LogFollower.open(this.#directory, generation, id);
      if (follower === undefined)
        throw new Error(
          `[au] [store-fs] the list index log in "${this.#directory}" vanished while it was built`,
        );
      if (records.length > 0 || reason === 'corrupt') {
        const why =
          reason === 'missing'
            ? 'there was none (a directory written before the index existed, or the index was deleted)'
            : 'it was corrupt';
        this.#settings.onRebuilt(
          `[au] [store-fs] built the list index of "${this.#settings.root}" from ${records.length} record files in ${Date.now() - started} ms: ${why}`,
        );
      }
      return { index, follower };
    } finally {
      await this.#waitingLocks.release(token);
    }
  }

  /** The loaded index with every line appended so far applied (one catch-up at a time). */
  #caughtUp(): Promise<Reader> {
    this.#catchingUp ??= this.#catchUp().finally(() => {
      this.#catchingUp = undefined;
    });
    return this.#catchingUp;
  }

  async #catchUp(): Promise<Reader> {
    const reader = await this.#readerReady();
    let result: 'current' | 'lost';
    try {
      result = await reader.follower.read((text) => reader.index.apply(parseLogLine(text)));
    } catch (error) {
      if (!(error instanceof CorruptIndexError)) throw error;
      this.#replaceReader(this.#rebuild('corrupt', reader.follower.generation));
      return this.#readerReady();
    }
    if (result === 'lost') {
      this.#replaceReader(this.#load());
      return this.#readerReady();
    }
    const { linesInGeneration } = reader.follower;
    if (!this.#compacting && linesInGeneration > Math.max(this.#compactAfterLines, reader.index.size)) {
      this.#compacting = true;
      this.#track(
        this.#compact().finally(() => {
          this.#compacting = false;
        }),
      );
    }
    return reader;
  }

  /**
   * Writes the index in memory as the snapshot of a new generation and drops old files.
   * The new log exists before the old one is sealed and read to its end, so every line
   * is in the snapshot or in the new log (see `LogAppender`).
   */
  async #compact(): Promise<void> {
    let token: Awaited<ReturnType<KeyLocks['acquire']>>;
    try {
      token = await this.#tryLocks.acquire('the list index', this.#lockPath, this.#settings.root);
    } catch (error) {
      if (LockTimeoutError.isInstance(error)) return; // another process is at it
      throw error;
    }
    try {
      const before = await this.#caughtUp();
      const generation = before.follower.generation;
      // A successor of an unsealed log was left by a compaction that died: nobody uses it.
      await unlinkFile(logPath(this.#directory, generation + 1));
      const id = await createLog(this.#directory, generation + 1, before.follower.id);
      await sealLog(logPath(this.#directory, generation));
      const after = await this.#caughtUp();
      if (after.follower.id !== id) return; // the index was replaced meanwhile
      await writeSnapshot(this.#directory, generation + 1, snapshotText(id, after.index));
      await removeGenerations(this.#directory, { logsBefore: generation, snapshotsBefore: generation + 1 });
    } finally {
      await this.#tryLocks.release(token);
    }
  }

  #repair(key: string): void {
    if (this.#repairing.has(key)) return;
    this.#repairing.add(key);
    this.#track(
      this.#settings.repair(key).finally(() => {
        this.#repairing.delete(key);
      }),
    );
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => {
      process.emitWarning(
        `[au] [store-fs] list index upkeep in "${this.#directory}" failed: ${String(error)}`,
        {
          code: 'AU_INDEX_UPKEEP_FAILED',
        },
      );
    });
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }
}

/**
 * A log line, recovering the whole line that follows a fragment left by a process killed
 * mid-append (the fragment's own line was never confirmed, so nothing is lost with it).
 */
function parseLogLine(text: string): IndexLine {
  const line = parseLine(text) ?? parseLine(text.slice(Math.max(text.lastIndexOf(LINE_START), 0)));
  if (line === undefined) throw new CorruptIndexError(`unreadable index line: ${text.slice(0, 200)}`);
  return line;
}

function snapshotText(logId: string, index: ListIndex): string {
  const parts = [encodeHeader({ op: 'snapshot', log: logId })];
  for (const line of index.lines()) parts.push(encodeLine(line));
  return parts.join('');
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}
