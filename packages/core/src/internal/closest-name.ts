/**
 * The candidate closest to `word` by edit distance (case-insensitive) when it is within
 * `maxDistance` edits, a likely typo: `priorty` → `priority`. One implementation for every
 * "did you mean" of au: unknown options, query parameters, tasks and commands.
 * @param maxDistance edits allowed. @default a third of the word's length, at least 1
 */
export function closestName(
  word: string,
  candidates: Iterable<string>,
  maxDistance = Math.max(1, Math.floor(word.length / 3)),
): string | undefined {
  const target = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Edit distance where a swap of two neighbouring letters costs 1 like any other edit
 * (optimal string alignment): `cuont` is one edit from `count`.
 */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let row = 1; row <= a.length; row++) {
    const current = [row];
    for (let column = 1; column <= b.length; column++) {
      const cost = a[row - 1] === b[column - 1] ? 0 : 1;
      let value = Math.min(previous[column]! + 1, current[column - 1]! + 1, previous[column - 1]! + cost);
      if (row > 1 && column > 1 && a[row - 1] === b[column - 2] && a[row - 2] === b[column - 1])
        value = Math.min(value, beforePrevious[column - 2]! + 1);
      current[column] = value;
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}
