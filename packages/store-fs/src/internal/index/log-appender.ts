import * as fs from 'node:fs';
import { errorCode } from '../file-io';
import { isSealed, logPath } from './index-files';

/** An open log and the appends using it (closed once retired and unused). */
interface OpenLog {
  generation: number;
  fd: number;
  users: number;
  retired: boolean;
}

/**
 * The writer side of the index: appends lines to the newest log with `O_APPEND` (each
 * line is one `write(2)`, so lines of several processes never interleave), then checks
 * with `fstat` that the log is still current. A sealed log means a newer generation
 * exists that a compaction may have read past this line: the line is appended there too
 * (appending twice is harmless, the lines of one key keep their order under its lock).
 */
export class LogAppender {
  readonly #directory: string;
  #current: OpenLog;

  private constructor(directory: string, current: OpenLog) {
    this.#directory = directory;
    this.#current = current;
  }

  /** Opens the log of `generation`, or of the first unsealed one after it; `undefined` when there is none. */
  static async open(directory: string, generation: number): Promise<LogAppender | undefined> {
    const opened = await openFirstUnsealed(directory, generation);
    return opened === undefined
      ? undefined
      : new LogAppender(directory, { ...opened, users: 0, retired: false });
  }

  /** Appends `text` (whole lines); `false` when the log chain broke (index deleted): reopen. */
  async append(text: string, sync: boolean): Promise<boolean> {
    const buffer = Buffer.from(text, 'utf8');
    for (;;) {
      const log = this.#current;
      log.users += 1;
      let stats: fs.Stats;
      try {
        await write(log.fd, buffer);
        if (sync)
          await new Promise<void>((resolve, reject) =>
            fs.fdatasync(log.fd, (error) => (error ? reject(error) : resolve())),
          );
        stats = await new Promise<fs.Stats>((resolve, reject) =>
          fs.fstat(log.fd, (error, result) => (error ? reject(error) : resolve(result))),
        );
      } finally {
        log.users -= 1;
        if (log.retired && log.users === 0) fs.close(log.fd, () => undefined);
      }
      if (stats.nlink === 0) return false;
      if (!isSealed(stats)) return true;
      if (!(await this.#advance(log))) return false;
    }
  }

  close(): void {
    this.#retire(this.#current);
  }

  // ---- private helpers ------------------------------------------------------------

  /** Moves on from a sealed log to its successor (once, for all appends that saw it). */
  async #advance(from: OpenLog): Promise<boolean> {
    if (this.#current !== from) return true;
    const opened = await openFirstUnsealed(this.#directory, from.generation + 1);
    if (opened === undefined) return false;
    if (this.#current !== from) {
      fs.close(opened.fd, () => undefined);
      return true;
    }
    this.#current = { ...opened, users: 0, retired: false };
    this.#retire(from);
    return true;
  }

  #retire(log: OpenLog): void {
    if (log.retired) return;
    log.retired = true;
    if (log.users === 0) fs.close(log.fd, () => undefined);
  }
}

async function openFirstUnsealed(
  directory: string,
  generation: number,
): Promise<{ generation: number; fd: number } | undefined> {
  for (let current = generation; ; current++) {
    const fd = await openForAppend(logPath(directory, current));
    if (fd === undefined) return undefined;
    if (fd !== 'sealed') return { generation: current, fd };
  }
}

/** A descriptor, `undefined` when the log does not exist, `sealed` when it is read-only. */
function openForAppend(path: string): Promise<number | 'sealed' | undefined> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'a', (error, fd) => {
      const code = errorCode(error);
      if (error === null) resolve(fd);
      else if (code === 'ENOENT') resolve(undefined);
      else if (code === 'EACCES' || code === 'EPERM') resolve('sealed');
      else reject(error);
    });
  });
}

function write(fd: number, buffer: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buffer, 0, buffer.length, null, (error, written) => {
      if (error !== null) reject(error);
      else if (written !== buffer.length)
        reject(new Error(`short append to the index log (${written} of ${buffer.length} bytes)`));
      else resolve();
    });
  });
}
