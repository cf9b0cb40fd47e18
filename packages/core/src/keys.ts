import { randomFillSync } from 'node:crypto';
import { InvalidKeyError } from './errors/invalid-key-error';

/** What a computation key may contain: no separators, no `..`, nothing a store could misread. */
export const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/** The characters KEY_PATTERN admits, by char code. */
const KEY_CHARS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  if (KEY_PATTERN.test(`${String.fromCharCode(code)}a`)) KEY_CHARS[code] = 1;
}
const DOT = 46;

/** True when `key` is a valid computation key. A key made only of dots is refused too. */
export function isValidKey(key: unknown): key is string {
  // KEY_PATTERN, checked by char code: no regular expression run (nor string flattening) per key.
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) return false;
  let onlyDots = true;
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index);
    if (code >= 128 || KEY_CHARS[code] === 0) return false;
    if (code !== DOT) onlyDots = false;
  }
  return !onlyDots;
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

/** Where `count` fresh random bytes start in `randomPool` (read in place: no Buffer per key). */
function takeRandom(count: number): number {
  if (randomOffset + count > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const at = randomOffset;
  randomOffset += count;
  return at;
}

/** Every byte as two hex digits. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

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
    sequence = randomPool[takeRandom(1)]! & 0x7f;
  }
  const at = takeRandom(8);
  const pool = randomPool;
  const time = lastMillis.toString(16).padStart(12, '0');
  const versionAndSequence = (0x7000 | sequence).toString(16);
  const variant = HEX[(pool[at]! & 0x3f) | 0x80]! + HEX[pool[at + 1]!]!;
  const tail =
    HEX[pool[at + 2]!]! +
    HEX[pool[at + 3]!]! +
    HEX[pool[at + 4]!]! +
    HEX[pool[at + 5]!]! +
    HEX[pool[at + 6]!]! +
    HEX[pool[at + 7]!]!;
  return `${time.slice(0, 8)}-${time.slice(8)}-${versionAndSequence}-${variant}-${tail}`;
}
