/** A binary heap: `before(a, b)` is true when `a` must come out first. */
export class PriorityQueue<T> {
  readonly #items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(items[index]!, items[parent]!)) break;
      swap(items, index, parent);
      index = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let best = index;
        if (left < items.length && this.before(items[left]!, items[best]!)) best = left;
        if (right < items.length && this.before(items[right]!, items[best]!)) best = right;
        if (best === index) break;
        swap(items, index, best);
        index = best;
      }
    }
    return top;
  }

  /** Removes every item matching `predicate`; returns them. */
  remove(predicate: (item: T) => boolean): T[] {
    const removed = this.#items.filter(predicate);
    if (removed.length === 0) return removed;
    const kept = this.#items.filter((item) => !predicate(item));
    this.#items.length = 0;
    for (const item of kept) this.push(item);
    return removed;
  }

  /** Empties the queue; returns what it held. */
  drain(): T[] {
    return this.#items.splice(0);
  }
}

/** A swap without the array a destructuring swap allocates. */
function swap<T>(items: T[], a: number, b: number): void {
  const held = items[a]!;
  items[a] = items[b]!;
  items[b] = held;
}
