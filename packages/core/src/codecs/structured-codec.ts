import { deserialize, serialize } from 'node:v8';
import type { Codec } from '../contracts/codec';

const TAG = '$au:v8';

/**
 * Values through Node's structured serialization (node:v8): Date, Map, Set, BigInt,
 * typed arrays, RegExp and Error survive. Stored as base64 inside `{ "$au:v8": … }`, so
 * every store can keep it. Both sides must run Node.
 */
export const structuredCodec: Codec = {
  name: 'structured',
  encode(value) {
    return { [TAG]: serialize(value).toString('base64') };
  },
  decode(data) {
    if (
      typeof data !== 'object' ||
      data === null ||
      typeof (data as Record<string, unknown>)[TAG] !== 'string'
    ) {
      throw new TypeError('[au] [structured codec] the stored value was not written by structuredCodec');
    }
    return deserialize(Buffer.from((data as Record<string, string>)[TAG]!, 'base64'));
  },
};
