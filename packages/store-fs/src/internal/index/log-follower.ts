import * as fs from 'node:fs';
import { errorCode } from '../file-io';
import { isSealed, logPath } from './index-files';
import { parseLogHeader } from './index-line';

const CHUNK_SIZE = 64 * 1024;
const NEWLINE = 0x0a;

/** Why following stopped: `lost` means the log chain broke (index deleted or replaced). */
export type FollowResult = 'current' | 'lost';

/**
 * Reads an index log from where it last stopped, and on into its successors: the reader
 * side of the index. Only whole lines are handed on; a line still being appended waits
 * for the next read.
 */
export class LogFollower {
  readonly #directory: string;
  #generation: number;
  #id: string;
  #handle: fs.promises.FileHandle;
  #offset: number;
  #rest: Buffer = Buffer.alloc(0);
  /** Lines read from the current generation's log: how much a compaction would save. */
  linesInGeneration = 0;

  private constructor(
    directory: string,
    generation: number,
    id: string,
    handle: fs.promises.FileHandle,
    offset: number,
  ) {
    this.#directory = directory;
    this.#generation = generation;
    this.#id = id;
    this.#handle = handle;
    this.#offset = offset;
  }

  /** Opens a generation's log after its header; `undefined` when it is missing or not `expectedId` (when given). */
  static async open(
    directory: string,
    generation: number,
    expectedId?: string,
  ): Promise<LogFollower | undefined> {
    const opened = await openLog(directory, generation);
    if (opened === undefined) return undefined;
    if (expectedId !== undefined && opened.id !== expectedId) {
      await opened.handle.close();
      return undefined;
    }
    return new LogFollower(directory, generation, opened.id, opened.handle, opened.offset);
  }

  get generation(): number {
    return this.#generation;
  }

  get id(): string {
    return this.#id;
  }

  /** Hands every new whole line to `onLine`, following into newer generations. */
  async read(onLine: (text: string) => void): Promise<FollowResult> {
    for (;;) {
      await this.#drain(onLine);
      const stats = await this.#handle.stat();
      if (stats.nlink === 0) return 'lost';
      if (!isSealed(stats)) return 'current';
      // Sealed: lines appended before the successor existed are all in this file now.
      await this.#drain(onLine);
      const next = await openLog(this.#directory, this.#generation + 1);
      if (next === undefined || next.previous !== this.#id) {
        await next?.handle.close();
        return 'lost';
      }
      await this.#handle.close();
      this.#generation += 1;
      this.#id = next.id;
      this.#handle = next.handle;
      this.#offset = next.offset;
      this.#rest = Buffer.alloc(0); // a fragment at the end of a sealed log: left by a killed writer
      this.linesInGeneration = 0;
    }
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  // ---- private helpers ------------------------------------------------------------

  async #drain(onLine: (text: string) => void): Promise<void> {
    const chunk = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const { bytesRead } = await this.#handle.read(chunk, 0, chunk.length, this.#offset);
      if (bytesRead === 0) return;
      this.#offset += bytesRead;
      // Split on bytes, not characters: a chunk may end inside a multi-byte character.
      const bytes = Buffer.concat([this.#rest, chunk.subarray(0, bytesRead)]);
      const end = bytes.lastIndexOf(NEWLINE);
      this.#rest = Buffer.from(bytes.subarray(end + 1));
      if (end < 0) continue;
      for (const line of bytes.toString('utf8', 0, end).split('\n')) {
        if (line.length === 0) continue;
        this.linesInGeneration += 1;
        onLine(line);
      }
    }
  }
}

/** The id in a log's header; `undefined` when the log is missing or its header unreadable. */
export async function readLogId(directory: string, generation: number): Promise<string | undefined> {
  const opened = await openLog(directory, generation);
  await opened?.handle.close();
  return opened?.id;
}

async function openLog(
  directory: string,
  generation: number,
): Promise<
  { handle: fs.promises.FileHandle; id: string; previous: string | undefined; offset: number } | undefined
> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(logPath(directory, generation), 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const buffer = Buffer.alloc(256);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  const text = buffer.toString('utf8', 0, bytesRead);
  const end = text.indexOf('\n');
  const header = end < 0 ? undefined : parseLogHeader(text.slice(0, end));
  if (header === undefined) {
    await handle.close();
    return undefined;
  }
  return {
    handle,
    id: header.id,
    previous: header.previous,
    offset: Buffer.byteLength(text.slice(0, end + 1)),
  };
}
