/**
 * A codec turns arguments and results into data every store can keep (JSON-compatible
 * values) and back. It is how values cross thread, process and machine boundaries.
 *
 * Left out on purpose: compression and encryption. Wrap a codec to add them.
 */
export interface Codec {
  /** Stable name, stored with nothing: both sides must be configured with the same codec. */
  readonly name: string;
  /** Value → JSON-compatible data. Throws when the value cannot be encoded. */
  encode(value: unknown): unknown;
  /** The inverse of `encode`. */
  decode(data: unknown): unknown;
}
