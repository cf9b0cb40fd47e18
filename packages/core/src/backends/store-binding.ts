import type { ComputationStore } from '../contracts/store';
import { StoreMismatchError } from '../errors/store-mismatch-error';

/**
 * The store a backend writes: set by the first `bind` (or the backend's `store`
 * option); a later `bind` of another store fails, so work never writes records nobody
 * reads. Two store objects over the same records (equal `id`) are the same store.
 */
export class StoreBinding {
  readonly #component: string;
  #store: ComputationStore | undefined;

  constructor(component: string, store?: ComputationStore) {
    this.#component = component;
    this.#store = store;
  }

  /** Binds `store`, or checks that it is the one already bound. */
  bind(store: ComputationStore): void {
    if (this.#store === undefined) {
      this.#store = store;
      return;
    }
    if (!sameStore(this.#store, store)) {
      throw new StoreMismatchError({
        component: this.#component,
        bound: describeStore(this.#store),
        given: describeStore(store),
      });
    }
  }

  /** The bound store; throws when nothing bound one yet. */
  get store(): ComputationStore {
    if (this.#store === undefined) {
      throw new TypeError(
        `[au] [${this.#component}] is bound to no store: launch through asyncCompute or submitTask, or pass \`store\` to its constructor`,
      );
    }
    return this.#store;
  }

  get bound(): boolean {
    return this.#store !== undefined;
  }
}

/** Same object, or two objects over the same records. */
export function sameStore(a: ComputationStore, b: ComputationStore): boolean {
  return a === b || (a.id !== undefined && a.id === b.id);
}

/** How a store is named in messages: its id, else its name. */
export function describeStore(store: ComputationStore): string {
  return store.id ?? `"${store.name}" (an object without id)`;
}
