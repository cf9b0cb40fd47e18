import { randomFillSync } from 'node:crypto';
import { InvalidKeyError } from './errors/invalid-key-error';

/** What a computation key may contain: no separators, no `..`, nothing a store could misread. */
export const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/** True when `key` is a valid computation key. A key made only of dots is refused too. */
export function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_PATTERN.test(key) && !/^\.+$/.test(key);
}

/** Throws `InvalidKeyError` unless `key` is valid; `component` names who asked, for the message. */
export function assertValidKey(key: unknown, component = 'core'): asserts key is string {
  if (!isValidKey(key)) throw new InvalidKeyError({ key, component });
}

// Random bytes are drawn in blocks: one syscall for many keys.
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;
let lastMillis = 0;
let sequence = 0;

function randomBytes(count: number): Buffer {
  if (randomOffset + count > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const slice = randomPool.subarray(randomOffset, randomOffset + count);
  randomOffset += count;
  return slice;
}

/**
 * A new UUIDv7 (RFC 9562): 48 bits of milliseconds, then a 12-bit counter that keeps
 * keys made in the same millisecond in order, then random bits. Keys sort by creation time.
 */
export function generateKey(now: number = Date.now()): string {
  if (now <= lastMillis) {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMillis += 1;
      sequence = 0;
    }
  } else {
    lastMillis = now;
    sequence = randomBytes(1)[0]! & 0x7f;
  }
  const random = randomBytes(8);
  const time = lastMillis.toString(16).padStart(12, '0');
  const versionAndSequence = (0x7000 | sequence).toString(16);
  const variant = ((random[0]! & 0x3f) | 0x80).toString(16).padStart(2, '0') + hex(random[1]!);
  let tail = '';
  for (let index = 2; index < 8; index++) tail += hex(random[index]!);
  return `${time.slice(0, 8)}-${time.slice(8)}-${versionAndSequence}-${variant}-${tail}`;
}

function hex(byte: number): string {
  return byte < 16 ? `0${byte.toString(16)}` : byte.toString(16);
}
