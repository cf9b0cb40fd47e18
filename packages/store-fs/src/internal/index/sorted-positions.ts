import type { ListPosition } from '@au/core/kit';
import { compareListOrder } from '@au/core/kit';

/**
 * Positions in list order (newest `createdAt` first, then key descending), kept sorted so
 * that "the next position after X" is a binary search: a page costs O(log n + page), not n.
 * Stored oldest first, so that new records, the usual insert, are pushed at the end.
 */
export class SortedPositions {
  readonly #items: ListPosition[] = [];

  get size(): number {
    return this.#items.length;
  }

  insert(position: ListPosition): void {
    const index = this.#lowerBound(position);
    const found = this.#items[index];
    if (found !== undefined && found.key === position.key && found.createdAt === position.createdAt) return;
    this.#items.splice(index, 0, position);
  }

  remove(position: ListPosition): void {
    const index = this.#lowerBound(position);
    const found = this.#items[index];
    if (found !== undefined && found.key === position.key && found.createdAt === position.createdAt) {
      this.#items.splice(index, 1);
    }
  }

  /** The first position after `bound` in list order (the newest when `bound` is undefined). */
  next(bound: ListPosition | undefined): ListPosition | undefined {
    const index = bound === undefined ? this.#items.length : this.#lowerBound(bound);
    return this.#items[index - 1];
  }

  // ---- private helpers ------------------------------------------------------------

  /** Index of the first item not older than `position` in list order. */
  #lowerBound(position: ListPosition): number {
    let low = 0;
    let high = this.#items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      // compareListOrder > 0: the item comes after `position` in list order, so it is older.
      if (compareListOrder(this.#items[middle]!, position) > 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
