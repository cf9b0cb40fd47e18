/**
 * Refuses a `maxQueued` that cannot bound anything: it must be a whole number ≥ 1
 * (0 would refuse every launch, a negative or fractional one is a mistake).
 */
export function checkMaxQueued(where: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `[au] ${where}: \`maxQueued\` must be a whole number ≥ 1 (computations that may wait to start), got ${String(value)}; leave it out for no limit`,
    );
  }
}
