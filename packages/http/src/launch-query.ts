import type { LaunchOptions } from '@au/core';
import { isValidKey } from '@au/core';
import { HttpError } from './errors/http-error';

/** The launch options `POST /{task}` takes as query parameters. */
export interface LaunchQuery {
  key?: string;
  priority?: string;
  delay?: string;
  tags?: string | string[];
  ttl?: string;
  idempotencyWindow?: string;
  /** Comma-separated keys of the computations this one waits for. */
  dependsOn?: string;
}

/** Bounds of the numeric launch options over HTTP. */
export const LAUNCH_LIMITS = {
  /** Priority, either way from 0. */
  priority: 1_000_000,
  /** Longest delay: 365 days in ms. */
  delay: 365 * 24 * 3600 * 1000,
  /** Most tags on one launch, and longest tag. */
  tags: 50,
  tagLength: 200,
} as const;

/**
 * The launch options of a `POST /{task}` from its query (`key`, `priority`, `delay` in
 * ms, `tags` repeated or comma-separated, `dependsOn` comma-separated keys, `ttl` and `idempotencyWindow` in seconds) and
 * its `Idempotency-Key` header. A bad value is a 400 naming the parameter.
 */
export function parseLaunchOptions(
  query: LaunchQuery,
  headers: Record<string, string | string[] | undefined>,
): LaunchOptions {
  const options: LaunchOptions = {};
  const key = launchKey(single(query.key, 'key'), headers['idempotency-key']);
  if (key !== undefined) options.key = key;
  const priority = number(query.priority, 'priority', {
    integer: true,
    min: -LAUNCH_LIMITS.priority,
    max: LAUNCH_LIMITS.priority,
  });
  if (priority !== undefined) options.priority = priority;
  const delay = number(query.delay, 'delay', { integer: true, min: 0, max: LAUNCH_LIMITS.delay, unit: 'ms' });
  if (delay !== undefined) options.delay = delay;
  const ttl = number(query.ttl, 'ttl', { min: 0, exclusiveMin: true, unit: 'seconds' });
  if (ttl !== undefined) options.ttl = ttl;
  const window = number(query.idempotencyWindow, 'idempotencyWindow', { min: 0, unit: 'seconds' });
  if (window !== undefined) {
    if (options.key === undefined) {
      throw invalid('idempotencyWindow', 'applies only with a key (?key= or the Idempotency-Key header)');
    }
    options.idempotencyWindow = window;
  }
  const tags = parseTags(query.tags);
  if (tags !== undefined) options.tags = tags;
  const dependsOn = single(query.dependsOn, 'dependsOn')
    ?.split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (dependsOn !== undefined && dependsOn.length > 0) options.dependsOn = dependsOn;
  return options;
}

function launchKey(fromQuery: string | undefined, header: string | string[] | undefined): string | undefined {
  if (Array.isArray(header))
    throw new HttpError(400, 'INVALID_HEADER', 'send one Idempotency-Key header, not several');
  const fromHeader = header === '' ? undefined : header;
  if (fromQuery !== undefined && fromHeader !== undefined && fromQuery !== fromHeader) {
    throw invalid(
      'key',
      `differs from the Idempotency-Key header ("${fromHeader.slice(0, 80)}"): send one key`,
    );
  }
  const key = fromQuery ?? fromHeader;
  if (key !== undefined && !isValidKey(key)) {
    const where = fromQuery === undefined ? 'the Idempotency-Key header' : '?key=';
    throw new HttpError(
      400,
      fromQuery === undefined ? 'INVALID_ID' : 'INVALID_QUERY',
      `${where} "${String(key).slice(0, 80)}" is not a valid key: use letters, digits, . _ : - (1 to 200)`,
    );
  }
  return key;
}

function parseTags(raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const tags = (Array.isArray(raw) ? raw : [raw])
    .flatMap((value) => value.split(','))
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  if (tags.length > LAUNCH_LIMITS.tags)
    throw invalid('tags', `takes at most ${LAUNCH_LIMITS.tags} tags, got ${tags.length}`);
  const long = tags.find((tag) => tag.length > LAUNCH_LIMITS.tagLength);
  if (long !== undefined) {
    throw invalid(
      'tags',
      `takes tags of at most ${LAUNCH_LIMITS.tagLength} characters, got "${long.slice(0, 40)}…"`,
    );
  }
  return tags.length > 0 ? [...new Set(tags)] : undefined;
}

function number(
  raw: string | string[] | undefined,
  name: string,
  bounds: { integer?: boolean; min: number; max?: number; exclusiveMin?: boolean; unit?: string },
): number | undefined {
  const text = single(raw, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  const tooLow = bounds.exclusiveMin ? value <= bounds.min : value < bounds.min;
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (bounds.integer && !Number.isInteger(value)) ||
    tooLow ||
    (bounds.max !== undefined && value > bounds.max)
  ) {
    const kind = bounds.integer ? 'a whole number' : 'a number';
    const unit = bounds.unit === undefined ? '' : ` of ${bounds.unit}`;
    const range =
      bounds.max === undefined
        ? `${bounds.exclusiveMin ? '>' : '≥'} ${bounds.min}`
        : `from ${bounds.min} to ${bounds.max}`;
    throw invalid(name, `must be ${kind}${unit} ${range}, got "${text.slice(0, 40)}"`);
  }
  return value;
}

/** One value of a parameter: sent twice is a mistake, not a choice of the last. */
function single(raw: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(raw)) throw invalid(name, 'was given more than once');
  return raw === '' ? undefined : raw;
}

function invalid(name: string, problem: string): HttpError {
  return new HttpError(400, 'INVALID_QUERY', `?${name}= ${problem}`, { details: { parameter: name } });
}
