import { ConfigError } from '../errors/config-error';
import { RESOURCE_HINTS, type ResourceHint } from '../task';

/**
 * Reads `AU_ROUTES`: `hint=backend` pairs, comma-separated, e.g. `cpu=process,io=inline`.
 * Each backend is an `AU_BACKEND` value; tasks whose hint is not named (or that have
 * none) run on `AU_BACKEND`. Returns `undefined` when unset; a malformed pair or an
 * unknown hint is a `ConfigError` naming it.
 */
export function routesFromEnv(raw: string | undefined): Partial<Record<ResourceHint, string>> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const routes: Partial<Record<ResourceHint, string>> = {};
  for (const pair of raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)) {
    const match = /^([A-Za-z]+)\s*=\s*(\S+)$/.exec(pair);
    if (match === null) {
      throw new ConfigError({
        setting: 'AU_ROUTES',
        message: `"${pair}" is not hint=backend; write e.g. AU_ROUTES=cpu=process,io=inline`,
      });
    }
    const hint = match[1]!.toLowerCase() as ResourceHint;
    if (!RESOURCE_HINTS.includes(hint)) {
      throw new ConfigError({
        setting: 'AU_ROUTES',
        message: `unknown resource hint "${match[1]}" in "${pair}": use ${RESOURCE_HINTS.join(', ')}`,
      });
    }
    if (routes[hint] !== undefined) {
      throw new ConfigError({ setting: 'AU_ROUTES', message: `"${hint}" is routed twice` });
    }
    routes[hint] = match[2]!;
  }
  return routes;
}
