/**
 * Every option name of an options interface, checked by the compiler to be complete:
 * `const known = optionNames<FooOptions>({ a: true, b: true })` fails to compile when
 * `FooOptions` gains or loses a field and this list does not.
 */
export function optionNames<T>(names: { [K in keyof Required<T>]: true }): ReadonlySet<string> {
  return new Set(Object.keys(names));
}

/**
 * Refuses an options object with a field the component does not know, naming it (and
 * the closest known name): a misspelled `concurency` or an unsupported `cron` must not
 * be ignored silently. `undefined` and `null` pass (no options given).
 */
export function checkOptions(where: string, options: unknown, known: ReadonlySet<string>): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`[au] ${where}: options must be an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (known.has(name)) continue;
    const closest = closestName(name, known);
    throw new TypeError(
      `[au] ${where}: unknown option "${name}"${closest === undefined ? '' : ` (did you mean "${closest}"?)`}. Known options: ${[...known].join(', ')}`,
    );
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string "${value.slice(0, 40)}"` : typeof value;
}

/** The known name within two edits of `name`, if one is. */
function closestName(name: string, known: ReadonlySet<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
