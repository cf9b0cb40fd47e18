import type { Codec } from '../contracts/codec';

/**
 * The default codec: values as JSON. Dates become ISO strings, `undefined` in objects
 * disappears, Map/Set/BigInt are refused. Use `structuredCodec` to keep them.
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value) {
    if (value === undefined || value === null || typeof value === 'number' || typeof value === 'string') {
      return value ?? null;
    }
    if (typeof value === 'boolean') return value;
    if (typeof value === 'bigint') {
      throw new TypeError('[au] [json codec] cannot encode a BigInt: use structuredCodec or return a string');
    }
    return JSON.parse(JSON.stringify(value));
  },
  decode(data) {
    return data;
  },
};
