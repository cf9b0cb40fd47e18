import * as fs from 'node:fs';

// Small promise wrappers over the callback API of node:fs: one libuv request each, without
// the bookkeeping of FileHandle. The store's hot path is made of these.

const INITIAL_READ_SIZE = 16 * 1024;

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function openFile(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, 0o644, (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}

function closeFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (error) => (error ? reject(error) : resolve()));
  });
}

function readInto(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, offset, buffer.length - offset, offset, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

function writeFrom(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buffer, offset, buffer.length - offset, offset, (error, written) =>
      error ? reject(error) : resolve(written),
    );
  });
}

function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * The whole text of a file, or `undefined` when it does not exist. Three requests for a
 * small file (open, read, close): a short read of a regular file means its end.
 */
export async function readText(path: string): Promise<string | undefined> {
  let fd: number;
  try {
    fd = await openFile(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    let buffer = Buffer.allocUnsafe(INITIAL_READ_SIZE);
    let length = 0;
    for (;;) {
      const bytesRead = await readInto(fd, buffer, length);
      length += bytesRead;
      if (bytesRead === 0 || length < buffer.length) break;
      const larger = Buffer.allocUnsafe(buffer.length * 4);
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await closeFile(fd);
  }
}

/**
 * Writes `text` to a new file (`O_CREAT | O_EXCL`: fails with `EEXIST` rather than
 * overwrite). With `durable`, the data is flushed to the disk before the file is closed.
 */
export async function writeNewFile(path: string, text: string, durable: boolean): Promise<void> {
  const fd = await openFile(path, 'wx');
  try {
    const buffer = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < buffer.length) offset += await writeFrom(fd, buffer, offset);
    if (durable) await syncData(fd);
  } finally {
    await closeFile(fd);
  }
}

export function rename(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.rename(from, to, (error) => (error ? reject(error) : resolve()));
  });
}

export function link(existing: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.link(existing, path, (error) => (error ? reject(error) : resolve()));
  });
}

export function symlink(target: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.symlink(target, path, (error) => (error ? reject(error) : resolve()));
  });
}

export function readlink(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    fs.readlink(path, 'utf8', (error, target) => (error ? reject(error) : resolve(target)));
  });
}

/** Removes a file; `false` when there was none. */
export function unlinkFile(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    fs.unlink(path, (error) =>
      error ? (errorCode(error) === 'ENOENT' ? resolve(false) : reject(error)) : resolve(true),
    );
  });
}

/** Flushes a directory's entries (after a rename) where the platform allows it. */
export async function syncDirectory(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await openFile(path, 'r');
  } catch {
    return;
  }
  try {
    await syncData(fd).catch(() => undefined);
  } finally {
    await closeFile(fd);
  }
}
