import { ConfigError } from '../errors/config-error';

/**
 * The whole number an environment variable sets, from `min` to `max`; `undefined` when it
 * is unset or empty. Any other value is a `ConfigError` naming the variable, so a typo
 * fails at start-up instead of falling back to a default.
 */
export function integerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError({
      setting: name,
      message: `must be a whole number from ${min} to ${max}, got "${raw}"`,
    });
  }
  return value;
}
