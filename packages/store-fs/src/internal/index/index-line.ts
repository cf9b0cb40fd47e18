import { type ComputationStatus, isComputationStatus, isValidKey } from '@au/core';
import type { IndexAttributes } from './index-attributes';

/**
 * One line of an index log or snapshot: a JSON object on its own line, always starting
 * with `{"op":`, so that a fragment left by a process killed mid-append can be told from
 * the whole line that follows it.
 *
 * - `will-set`: a writer is about to store a record version with these attributes (written
 *   before the record file, so the index never lacks a version that may be on disk).
 *   `at` is when (ms), to drop intents that never came true; `create` marks a lock-free
 *   create, which a later `deleted` does not cancel.
 * - `set`: the key's record has these attributes (written after the record file).
 * - `deleted`: the key's record file was removed.
 * - `log` / `snapshot`: the header of a log file (its id and its predecessor's) or of a
 *   snapshot (the id of the log it continues into).
 */
export type IndexLine =
  | { op: 'will-set'; key: string; attributes: IndexAttributes; at: number; create: boolean }
  | { op: 'set'; key: string; attributes: IndexAttributes }
  | { op: 'deleted'; key: string };

export interface LogHeader {
  op: 'log';
  id: string;
  previous: string | undefined;
}

export interface SnapshotHeader {
  op: 'snapshot';
  log: string;
}

export const LINE_START = '{"op":';

export function encodeLine(line: IndexLine): string {
  if (line.op === 'deleted') return `${JSON.stringify({ op: line.op, k: line.key })}\n`;
  const { status, task, createdAt, tags, expiresAt } = line.attributes;
  const fields: Record<string, unknown> = { op: line.op, k: line.key, s: status, t: task, c: createdAt };
  if (tags !== undefined) fields.g = tags;
  if (expiresAt !== undefined) fields.x = expiresAt;
  if (line.op === 'will-set') {
    fields.at = line.at;
    if (line.create) fields.n = 1;
  }
  return `${JSON.stringify(fields)}\n`;
}

export function encodeHeader(header: LogHeader | SnapshotHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** The line, or `undefined` when the text is not a valid index line. */
export function parseLine(text: string): IndexLine | undefined {
  const fields = parseObject(text);
  if (fields === undefined || !isValidKey(fields.k)) return undefined;
  const key = fields.k;
  if (fields.op === 'deleted') return { op: 'deleted', key };
  const attributes = parseAttributes(fields);
  if (attributes === undefined) return undefined;
  if (fields.op === 'set') return { op: 'set', key, attributes };
  if (fields.op === 'will-set' && typeof fields.at === 'number') {
    return { op: 'will-set', key, attributes, at: fields.at, create: fields.n === 1 };
  }
  return undefined;
}

export function parseLogHeader(text: string): LogHeader | undefined {
  const fields = parseObject(text);
  if (fields?.op !== 'log' || typeof fields.id !== 'string') return undefined;
  return {
    op: 'log',
    id: fields.id,
    previous: typeof fields.previous === 'string' ? fields.previous : undefined,
  };
}

export function parseSnapshotHeader(text: string): SnapshotHeader | undefined {
  const fields = parseObject(text);
  if (fields?.op !== 'snapshot' || typeof fields.log !== 'string') return undefined;
  return { op: 'snapshot', log: fields.log };
}

// ---- private helpers ------------------------------------------------------------

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith(LINE_START)) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseAttributes(fields: Record<string, unknown>): IndexAttributes | undefined {
  const { s: status, t: task, c: createdAt, g: tags, x: expiresAt } = fields;
  if (!isComputationStatus(status) || typeof task !== 'string' || typeof createdAt !== 'number')
    return undefined;
  const attributes: IndexAttributes = { status: status as ComputationStatus, task, createdAt };
  if (tags !== undefined) {
    if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) return undefined;
    attributes.tags = tags as string[];
  }
  if (expiresAt !== undefined) {
    if (typeof expiresAt !== 'number') return undefined;
    attributes.expiresAt = expiresAt;
  }
  return attributes;
}
