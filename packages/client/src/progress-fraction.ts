/**
 * How far a computation is, from 0 to 1, read from whatever its task reports as
 * progress: a number (a fraction up to 1, else a percentage), or an object with
 * `percent`, or a count and a `total` (`done`, `checked`, `current`, `completed`,
 * `value`, `loaded`). `undefined` when the progress says no such thing.
 */
export function progressFraction(progress: unknown): number | undefined {
  if (typeof progress === 'number' && Number.isFinite(progress)) {
    return clamp(progress <= 1 ? progress : progress / 100);
  }
  if (typeof progress !== 'object' || progress === null) return undefined;
  const fields = progress as Record<string, unknown>;
  if (typeof fields.percent === 'number') return clamp(fields.percent / 100);
  const total = fields.total;
  if (typeof total !== 'number' || !(total > 0)) return undefined;
  for (const name of ['done', 'checked', 'current', 'completed', 'value', 'loaded']) {
    const count = fields[name];
    if (typeof count === 'number' && Number.isFinite(count)) return clamp(count / total);
  }
  return undefined;
}

function clamp(value: number): number {
  return Math.min(1, Math.max(0, value));
}
