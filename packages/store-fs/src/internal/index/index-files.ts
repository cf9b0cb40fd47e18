import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { errorCode, link, readText, rename, unlinkFile, writeNewFile } from '../file-io';
import { encodeHeader } from './index-line';

// The files of the list index, in `<root>/.index/`:
//   log.<generation>.jsonl       append-only; first line its header (id, predecessor's id)
//   snapshot.<generation>.jsonl  the whole index as of the start of log.<generation>
// A generation's log is sealed (made read-only) once its successor exists: a writer that
// finds its log sealed after appending appends again to the successor.

export const INDEX_DIRECTORY = '.index';
const LOG = /^log\.(\d+)\.jsonl$/;
const SNAPSHOT = /^snapshot\.(\d+)\.jsonl$/;

export interface Generations {
  /** Generations that have a log, ascending. */
  logs: number[];
  /** Generations that have a snapshot, ascending. */
  snapshots: number[];
}

export function logPath(directory: string, generation: number): string {
  return join(directory, `log.${generation}.jsonl`);
}

export function snapshotPath(directory: string, generation: number): string {
  return join(directory, `snapshot.${generation}.jsonl`);
}

export async function listGenerations(directory: string): Promise<Generations> {
  let names: string[];
  try {
    names = await fs.promises.readdir(directory);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { logs: [], snapshots: [] };
    throw error;
  }
  const numbers = (pattern: RegExp) =>
    names
      .map((name) => pattern.exec(name)?.[1])
      .filter((match): match is string => match !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  return { logs: numbers(LOG), snapshots: numbers(SNAPSHOT) };
}

/** Creates the log of `generation` with its header, atomically; its id. `EEXIST` if present. */
export async function createLog(
  directory: string,
  generation: number,
  previous: string | undefined,
): Promise<string> {
  await fs.promises.mkdir(directory, { recursive: true });
  const id = randomBytes(8).toString('hex');
  const temp = join(directory, `log.${generation}.${id}.tmp`);
  await writeNewFile(temp, encodeHeader({ op: 'log', id, previous }), false);
  try {
    await link(temp, logPath(directory, generation));
  } finally {
    await unlinkFile(temp);
  }
  return id;
}

/** Marks a log as superseded: read-only, which its writers see through `fstat`. */
export async function sealLog(path: string): Promise<void> {
  await fs.promises.chmod(path, 0o444);
}

export function isSealed(stats: fs.Stats): boolean {
  return (stats.mode & 0o200) === 0;
}

/** Writes a snapshot (`text` already encoded) atomically. */
export async function writeSnapshot(directory: string, generation: number, text: string): Promise<void> {
  const path = snapshotPath(directory, generation);
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeNewFile(temp, text, false);
  await rename(temp, path);
}

export function readSnapshot(directory: string, generation: number): Promise<string | undefined> {
  return readText(snapshotPath(directory, generation));
}

/** Removes the logs and snapshots older than the ones still needed. */
export async function removeGenerations(
  directory: string,
  { logsBefore, snapshotsBefore }: { logsBefore: number; snapshotsBefore: number },
): Promise<void> {
  const { logs, snapshots } = await listGenerations(directory);
  for (const generation of logs.filter((item) => item < logsBefore)) {
    await unlinkFile(logPath(directory, generation));
  }
  for (const generation of snapshots.filter((item) => item < snapshotsBefore)) {
    await unlinkFile(snapshotPath(directory, generation));
  }
}
