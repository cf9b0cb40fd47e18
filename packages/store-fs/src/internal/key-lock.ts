import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { LockLostError } from '../errors/lock-lost-error';
import { LockTimeoutError } from '../errors/lock-timeout-error';
import { errorCode, readlink, readText, rename, symlink, unlinkFile } from './file-io';

const PREFIX = 'au-lock/1';
const HOST = hostname();
// Owners differ by a per-process random tag and a counter: unique without drawing random
// bytes for every lock (a getrandom call each, a measurable share of a locked write).
const PROCESS_TAG = randomBytes(4).toString('hex');
let acquisitions = 0;

function nextNonce(): string {
  acquisitions = (acquisitions + 1) % 0x7fffffff;
  return `${PROCESS_TAG}${acquisitions.toString(16)}`;
}

export interface KeyLockSettings {
  /** Milliseconds to wait for a lock held by a live process. */
  timeout: number;
  /** Age after which a lock is taken over even if its owner seems alive. */
  staleAfter: number;
}

/** A held lock. */
export interface LockToken {
  key: string;
  path: string;
  owner: string;
  acquiredAt: number;
}

/**
 * Per-key lock files that work between processes of one machine (and, by age, between
 * machines sharing a directory).
 *
 * - Taking the lock creates `<record>.json.lock` exclusively. It is a symbolic link whose
 *   target is the owner, `au-lock/1 <pid> <time> <nonce> <host>` (one atomic `symlink(2)`,
 *   which fails with `EEXIST` when the lock is held: the trick of Emacs and Mercurial lock
 *   files). Where symbolic links are refused (Windows without developer mode), a regular
 *   file created with `O_EXCL` holding the same text is used instead.
 * - A lock is stale when its owner is a process of this host that no longer exists
 *   (`kill(pid, 0)` fails with `ESRCH`), or when it is older than `staleAfter`. A stale lock
 *   is renamed aside under a unique name, then read back: when it is still the owner that
 *   was judged stale it is deleted; if another process replaced it in between, it is put back.
 * - An owner that held its lock for more than half of `staleAfter` checks, before writing
 *   and before releasing, that the lock is still its own (`LockLostError` otherwise).
 */
export class KeyLocks {
  readonly #settings: KeyLockSettings;
  #useSymlinks = true;

  constructor(settings: KeyLockSettings) {
    this.#settings = settings;
  }

  /** Takes the lock at `path`, creating `directory` when missing. */
  async acquire(key: string, path: string, directory: string): Promise<LockToken> {
    const started = Date.now();
    let delay = 1;
    for (;;) {
      const acquiredAt = Date.now();
      const owner = `${PREFIX} ${process.pid} ${acquiredAt} ${nextNonce()} ${HOST}`;
      try {
        await this.#create(path, owner);
        return { key, path, owner, acquiredAt };
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') {
          await fs.promises.mkdir(directory, { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') throw error;
      }
      const current = await readOwner(path);
      if (current === undefined) continue; // released meanwhile
      if (await this.#isStale(path, current)) {
        await this.#breakStale(path, current);
        continue;
      }
      if (Date.now() - started >= this.#settings.timeout) {
        throw new LockTimeoutError({
          key,
          file: path,
          timeout: this.#settings.timeout,
          owner: describe(current),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 25);
    }
  }

  /** Throws `LockLostError` when a lock held for long was taken over. Free for short holds. */
  async assertHeld(token: LockToken): Promise<void> {
    const heldFor = Date.now() - token.acquiredAt;
    if (heldFor < this.#settings.staleAfter / 2) return;
    if ((await readOwner(token.path)) !== token.owner) {
      throw new LockLostError({ key: token.key, heldFor, staleAfter: this.#settings.staleAfter });
    }
  }

  /** Releases the lock (unless another process took it over after a very long hold). */
  async release(token: LockToken): Promise<void> {
    if (Date.now() - token.acquiredAt >= this.#settings.staleAfter / 2) {
      if ((await readOwner(token.path)) !== token.owner) return;
    }
    await unlinkFile(token.path);
  }

  /** Whether a lock file left at `path` is stale now (for housekeeping). */
  async removeIfStale(path: string): Promise<boolean> {
    const current = await readOwner(path);
    if (current === undefined || !(await this.#isStale(path, current))) return false;
    await this.#breakStale(path, current);
    return true;
  }

  // ---- private helpers ------------------------------------------------------------

  async #create(path: string, owner: string): Promise<void> {
    if (this.#useSymlinks) {
      try {
        await symlink(owner, path);
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
        this.#useSymlinks = false;
      }
    }
    await fs.promises.writeFile(path, owner, { flag: 'wx' });
  }

  async #isStale(path: string, owner: string): Promise<boolean> {
    const parsed = parseOwner(owner);
    if (parsed === undefined) {
      // Unreadable (a file lock whose owner died before writing it): judge by its age.
      const stats = await fs.promises.lstat(path).catch(() => undefined);
      return stats !== undefined && Date.now() - stats.mtimeMs > this.#settings.staleAfter;
    }
    if (parsed.host === HOST && !isProcessAlive(parsed.pid)) return true;
    return Date.now() - parsed.time > this.#settings.staleAfter;
  }

  async #breakStale(path: string, judged: string): Promise<void> {
    const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
    try {
      await rename(path, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    const moved = await readOwner(aside);
    if (moved !== undefined && moved !== judged) {
      // Another process replaced the stale lock in between: give its lock back.
      await this.#create(path, moved).catch(() => undefined);
    }
    await unlinkFile(aside);
  }
}

/** The owner text of a lock, `''` when unreadable, `undefined` when there is no lock. */
async function readOwner(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    if (code !== 'EINVAL' && code !== 'UNKNOWN') throw error;
  }
  return (await readText(path)) ?? undefined;
}

function parseOwner(owner: string): { pid: number; time: number; host: string } | undefined {
  const parts = owner.split(' ');
  if (parts[0] !== PREFIX || parts.length < 5) return undefined;
  const pid = Number(parts[1]);
  const time = Number(parts[2]);
  if (!Number.isInteger(pid) || !Number.isFinite(time)) return undefined;
  return { pid, time, host: parts.slice(4).join(' ') };
}

function describe(owner: string): string {
  const parsed = parseOwner(owner);
  return parsed === undefined ? 'an unknown owner' : `process ${parsed.pid} on ${parsed.host}`;
}

function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}
