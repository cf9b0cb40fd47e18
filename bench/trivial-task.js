// The task module both pools of the thread and process benchmarks load: a default export
// for Piscina and tinypool, a `defineTask` export for au. Plain JavaScript, so that no
// pool's workers need a TypeScript loader: each side runs as its users run it, built.
import { defineTask } from '@au/core';

export const trivial = defineTask({ name: 'bench.trivial', run: (n) => n + 1 });

/** The raw pools' handler: the same work. */
export default function trivialHandler(n) {
  return n + 1;
}
