import { closestName } from './closest-name';

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
    const closest = closestName(name, known, 2);
    throw new TypeError(
      `[au] ${where}: unknown option "${name}"${closest === undefined ? '' : ` (did you mean "${closest}"?)`}. Known options: ${[...known].join(', ')}`,
    );
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string "${value.slice(0, 40)}"` : typeof value;
}
