import { isExpired, type ListPosition, type NormalizedListQuery } from '@au/core/kit';
import { type IndexAttributes, sameAttributes } from './index-attributes';
import type { IndexLine } from './index-line';
import { SortedPositions } from './sorted-positions';

/** An announced version (`will-set`) not yet confirmed by its `set`. */
interface PendingVersion {
  attributes: IndexAttributes;
  at: number;
  create: boolean;
}

/** What the index knows of one key: the confirmed version and those that may be on disk. */
interface KeyState {
  confirmed: IndexAttributes | undefined;
  pending: PendingVersion[];
}

const ALL = 'all';

/**
 * The list index in memory: for each key, every version its record file may hold (the
 * confirmed one plus versions announced and not yet confirmed), each listed under its
 * position in sorted arrays per facet (all, each status, each task, each tag).
 *
 * The record files stay the truth: a candidate is always read back and checked by the
 * caller, which reports what it found through `observe`. The invariant that makes this
 * safe: the version on disk is always among a key's versions here (writers announce a
 * version before writing it), so the index may hold extra candidates, never miss one.
 */
export class ListIndex {
  readonly #keys = new Map<string, KeyState>();
  readonly #facets = new Map<string, SortedPositions>();
  readonly #staleAfter: number;

  /** @param staleAfter ms after which an announced version that never reached the disk is dropped. */
  constructor(staleAfter: number) {
    this.#staleAfter = staleAfter;
  }

  /** Keys known. */
  get size(): number {
    return this.#keys.size;
  }

  apply(line: IndexLine): void {
    this.#change(line.key, (state) => {
      if (line.op === 'will-set') {
        state.pending.push({ attributes: line.attributes, at: line.at, create: line.create });
      } else if (line.op === 'set') {
        state.confirmed = line.attributes;
        state.pending = [];
      } else {
        state.confirmed = undefined;
        // A lock-free create announced before this deletion may still succeed after it.
        state.pending = state.pending.filter((version) => version.create);
      }
    });
  }

  /**
   * Positions that may hold a record matching `query`, in list order after its cursor.
   * Walks the smallest facet that covers the query; safe to call `observe` between steps.
   */
  *candidates(query: NormalizedListQuery, now: number): Generator<ListPosition> {
    const drivers = this.#drivers(query);
    let bound = query.after;
    for (;;) {
      let best: ListPosition | undefined;
      for (const positions of drivers) {
        const next = positions.next(bound);
        if (next !== undefined && (best === undefined || isNewer(next, best))) best = next;
      }
      if (best === undefined) return;
      bound = best;
      const state = this.#keys.get(best.key);
      if (
        state !== undefined &&
        this.#versions(state).some((version) => matches(version, best, query, now))
      ) {
        yield best;
      }
    }
  }

  /**
   * How many keys match `query` by their newest known version (the confirmed one, else the
   * latest announced): counted from memory, without reading record files, so a write in
   * progress may count as already done.
   */
  count(query: NormalizedListQuery, now: number): number {
    let total = 0;
    for (const state of this.#keys.values()) {
      const version = state.pending[state.pending.length - 1]?.attributes ?? state.confirmed;
      if (version !== undefined && matchesFilters(version, query, now)) total += 1;
    }
    return total;
  }

  /**
   * Reconciles a key with what its record file holds now (`undefined`: no file). Returns
   * `true` when the index on disk is worth repairing for this key (a stale version that no
   * writer in progress explains), `false` when memory alone is enough.
   */
  observe(key: string, found: IndexAttributes | undefined): boolean {
    const state = this.#keys.get(key);
    const now = Date.now();
    const fresh = (version: PendingVersion) => now - version.at < this.#staleAfter;
    if (found === undefined) {
      if (state === undefined) return false;
      // A fresh announced version may be a create in progress: keep it for now.
      if (state.pending.some(fresh)) return false;
      this.#change(key, (current) => {
        current.confirmed = undefined;
        current.pending = [];
      });
      return true;
    }
    let repair = false;
    this.#change(key, (current) => {
      const match = current.pending.findIndex((version) => sameAttributes(version.attributes, found));
      const stale = current.pending.filter((version) => !fresh(version));
      if (match >= 0) {
        // The announced version reached the disk; its `set` is not read yet, or never comes
        // (the writer died: then the announcement is old, and worth settling on disk).
        repair = !fresh(current.pending[match]!);
      } else if (current.confirmed !== undefined && sameAttributes(current.confirmed, found)) {
        repair = stale.length > 0; // announcements that never came true
      } else {
        repair = !current.pending.some(fresh); // no write in progress explains the file
      }
      current.confirmed = found;
      current.pending = current.pending.filter((version, index) => index !== match && fresh(version));
    });
    return repair;
  }

  /** The index as lines whose replay rebuilds it: the body of a snapshot. */
  *lines(): Generator<IndexLine> {
    for (const [key, state] of this.#keys) {
      if (state.confirmed !== undefined) yield { op: 'set', key, attributes: state.confirmed };
      for (const version of state.pending) yield { op: 'will-set', key, ...version };
    }
  }

  // ---- private helpers ------------------------------------------------------------

  #versions(state: KeyState): IndexAttributes[] {
    const versions = state.pending.map((version) => version.attributes);
    if (state.confirmed !== undefined) versions.push(state.confirmed);
    return versions;
  }

  /** Applies `mutate` to a key's state and moves its positions between facets to match. */
  #change(key: string, mutate: (state: KeyState) => void): void {
    const state = this.#keys.get(key) ?? { confirmed: undefined, pending: [] };
    const before = this.#postings(state);
    mutate(state);
    const after = this.#postings(state);
    for (const [id, [facet, createdAt]] of before) {
      if (!after.has(id)) this.#facets.get(facet)?.remove({ createdAt, key });
    }
    for (const [id, [facet, createdAt]] of after) {
      if (before.has(id)) continue;
      let positions = this.#facets.get(facet);
      if (positions === undefined) {
        positions = new SortedPositions();
        this.#facets.set(facet, positions);
      }
      positions.insert({ createdAt, key });
    }
    if (state.confirmed === undefined && state.pending.length === 0) this.#keys.delete(key);
    else this.#keys.set(key, state);
  }

  /** Every (facet, createdAt) a key is listed under. */
  #postings(state: KeyState): Map<string, [string, number]> {
    const postings = new Map<string, [string, number]>();
    for (const version of this.#versions(state)) {
      const facets = [
        ALL,
        `s:${version.status}`,
        `t:${version.task}`,
        ...(version.tags ?? []).map((tag) => `g:${tag}`),
      ];
      for (const facet of facets)
        postings.set(`${facet}\u0000${version.createdAt}`, [facet, version.createdAt]);
    }
    return postings;
  }

  /** The facets to walk for a query: the option covering the fewest positions. */
  #drivers(query: NormalizedListQuery): SortedPositions[] {
    const options: string[][] = [[ALL]];
    if (query.statuses !== undefined) options.push(query.statuses.map((status) => `s:${status}`));
    if (query.task !== undefined) options.push([`t:${query.task}`]);
    if (query.tag !== undefined) options.push([`g:${query.tag}`]);
    let best: SortedPositions[] = [];
    let bestSize = Number.POSITIVE_INFINITY;
    for (const facets of options) {
      const positions = facets.flatMap((facet) => this.#facets.get(facet) ?? []);
      const size = positions.reduce((sum, item) => sum + item.size, 0);
      if (size < bestSize) {
        best = positions;
        bestSize = size;
      }
    }
    return best;
  }
}

function isNewer(a: ListPosition, b: ListPosition): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt > b.createdAt : a.key > b.key;
}

function matches(
  version: IndexAttributes,
  position: ListPosition,
  query: NormalizedListQuery,
  now: number,
): boolean {
  return version.createdAt === position.createdAt && matchesFilters(version, query, now);
}

function matchesFilters(version: IndexAttributes, query: NormalizedListQuery, now: number): boolean {
  return (
    !isExpired(version, now) &&
    (query.statuses === undefined || query.statuses.includes(version.status)) &&
    (query.task === undefined || version.task === query.task) &&
    (query.tag === undefined || (version.tags ?? []).includes(query.tag))
  );
}
