import { createHash } from 'node:crypto';
import { join, sep } from 'node:path';
import { InvalidKeyError } from '@au/core';

/** Suffix of a record file. Temporary files end in `.tmp`, lock files in `.lock`. */
export const RECORD_SUFFIX = '.json';
export const TEMP_SUFFIX = '.tmp';
export const LOCK_SUFFIX = '.lock';
/** Shard directories: two lowercase hex digits, 256 of them. */
export const SHARD_PATTERN = /^[0-9a-f]{2}$/;

/** Encoded names longer than this are shortened and completed by a hash (file names stop at 255 bytes). */
const MAX_ENCODED_LENGTH = 180;
const KEPT_PREFIX_LENGTH = 120;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/;

/** Where one key's files live. */
export interface RecordPaths {
  key: string;
  /** The shard directory. */
  directory: string;
  /** Record file name inside `directory`. */
  fileName: string;
  /** Absolute record file path. */
  file: string;
  /** Absolute lock file path. */
  lock: string;
}

/**
 * The paths of a key (already checked by `assertValidKey`). The file name is the key made
 * safe for case-insensitive and Windows file systems: `A` → `~a`, `:` → `=`, device
 * names prefixed by `~_`, long names cut and completed by a SHA-256. Throws
 * `InvalidKeyError` if the result would leave `root` (it cannot; checked anyway).
 */
export function recordPaths(root: string, key: string): RecordPaths {
  const directory = join(root, shardOf(key));
  const fileName = encodeKey(key) + RECORD_SUFFIX;
  const file = join(directory, fileName);
  if (!file.startsWith(root + sep) || file.length <= directory.length + 1) {
    throw new InvalidKeyError({ key, component: 'store-fs' });
  }
  return { key, directory, fileName, file, lock: file + LOCK_SUFFIX };
}

/** The shard of a key: the low byte of its 32-bit FNV-1a hash, as two hex digits. */
export function shardOf(key: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  const byte = hash & 0xff;
  return byte < 16 ? `0${byte.toString(16)}` : byte.toString(16);
}

/** The file name stem of a key (without `.json`). */
export function encodeKey(key: string): string {
  let encoded = /[A-Z:]/.test(key)
    ? key.replace(/[A-Z:]/g, (char) => (char === ':' ? '=' : `~${char.toLowerCase()}`))
    : key;
  if (WINDOWS_RESERVED.test(encoded)) encoded = `~_${encoded}`;
  if (encoded.length > MAX_ENCODED_LENGTH) {
    const digest = createHash('sha256').update(key).digest('hex').slice(0, 40);
    encoded = `${encoded.slice(0, KEPT_PREFIX_LENGTH)}~~${digest}`;
  }
  return encoded;
}

/** The key a record file name stands for, or `undefined` for a shortened (hashed) or foreign name. */
export function decodeFileName(fileName: string): string | undefined {
  if (!fileName.endsWith(RECORD_SUFFIX)) return undefined;
  let stem = fileName.slice(0, -RECORD_SUFFIX.length);
  if (stem.includes('~~')) return undefined;
  if (stem.startsWith('~_')) stem = stem.slice(2);
  if (/~(?![a-z])/.test(stem)) return undefined;
  return stem.replace(/~([a-z])|=/g, (_match, letter: string | undefined) =>
    letter === undefined ? ':' : letter.toUpperCase(),
  );
}
