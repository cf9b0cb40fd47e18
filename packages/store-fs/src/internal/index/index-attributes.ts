import type { ComputationRecord, ComputationStatus } from '@au/core';

/** What the list index keeps of a record: what `list` filters, orders and expires by. */
export interface IndexAttributes {
  status: ComputationStatus;
  task: string;
  createdAt: number;
  tags?: readonly string[];
  expiresAt?: number;
}

export function attributesOf(record: ComputationRecord): IndexAttributes {
  const attributes: IndexAttributes = {
    status: record.status,
    task: record.task,
    createdAt: record.createdAt,
  };
  // Only what survives a JSON round trip: a line the index cannot read back would make it rebuild.
  const tags = record.tags?.filter((tag) => typeof tag === 'string');
  if (tags !== undefined && tags.length > 0) attributes.tags = tags;
  if (Number.isFinite(record.expiresAt)) attributes.expiresAt = record.expiresAt;
  return attributes;
}

export function sameAttributes(a: IndexAttributes, b: IndexAttributes): boolean {
  return (
    a.status === b.status &&
    a.task === b.task &&
    a.createdAt === b.createdAt &&
    a.expiresAt === b.expiresAt &&
    (a.tags ?? []).length === (b.tags ?? []).length &&
    (a.tags ?? []).every((tag, index) => b.tags?.[index] === tag)
  );
}
