import { ConfigError } from '@au/core';

/** Schemas au accepts: plain lower-case identifiers, so they need no quoting anywhere. */
export const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME_PATTERN.test(schema)) {
    throw new ConfigError({
      setting: 'schema',
      message: `"${schema}" is not a schema name au accepts: use lower-case letters, digits and _ (e.g. public, au)`,
    });
  }
}
