import { type ComputationStatus, isComputationStatus, isValidKey } from '@au/core';
import { HttpError } from './errors/http-error';

/** Seconds to wait from a `?wait=` value: a number ≥ 0, capped at `max`. */
export function parseWait(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return Math.min(fallback, max);
  const value = typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new HttpError(400, 'INVALID_QUERY', `?wait= must be a number of seconds ≥ 0, got "${String(raw)}"`);
  }
  return Math.min(value, max);
}

/** A boolean query flag: `true`/`1`/empty mean yes, `false`/`0` no. */
export function parseFlag(raw: unknown, name: string): boolean {
  if (raw === undefined) return false;
  if (raw === '' || raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HttpError(400, 'INVALID_QUERY', `?${name}= must be true or false, got "${String(raw)}"`);
}

/** A positive integer query value within bounds, or `undefined` when absent. */
export function parseInteger(raw: unknown, name: string, min: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(
      400,
      'INVALID_QUERY',
      `?${name}= must be a whole number from ${min} to ${max}, got "${String(raw)}"`,
    );
  }
  return value;
}

/** Checks a computation id from the path: 400 when it cannot be a key. */
export function parseTaskId(raw: unknown): string {
  if (!isValidKey(raw)) {
    throw new HttpError(
      400,
      'INVALID_ID',
      `"${String(raw).slice(0, 80)}" is not a valid task id: ids use letters, digits, . _ : - (1 to 200)`,
    );
  }
  return raw;
}

/** True when the `Prefer` header asks for `respond-async` (RFC 7240). */
export function prefersAsync(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const values = Array.isArray(header) ? header : [header];
  return values.some((value) =>
    value
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .includes('respond-async'),
  );
}

/** `?status=` as one status or several, comma-separated; `undefined` when absent. */
export function parseStatuses(raw: unknown): ComputationStatus[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const statuses = String(raw)
    .split(',')
    .map((item) => item.trim());
  const invalid = statuses.find((item) => !isComputationStatus(item));
  if (invalid !== undefined) {
    throw new HttpError(
      400,
      'INVALID_QUERY',
      `?status= takes pending, running, completed, failed or cancelled (comma-separated), got "${invalid.slice(0, 40)}"`,
    );
  }
  return statuses as ComputationStatus[];
}
