import type { JsonSchema } from './types';

const COMPONENTS = '#/components/schemas/';

/**
 * A task's input schema from `/openapi.json` with its `$ref`s to `components.schemas`
 * replaced by what they point at (a part reused or recursive in the task's zod schema is
 * a component there), so the form sees plain fields. A single-item `allOf` (how a
 * described or optional reference comes) is merged into its parent. A reference back
 * into itself (a recursive type) stops as `{}`: that field is edited as JSON. An unknown
 * reference stays `{}` too.
 */
export function resolveRefs(schema: JsonSchema, components: Record<string, unknown> = {}): JsonSchema {
  const walk = (value: unknown, path: readonly string[]): unknown => {
    if (Array.isArray(value)) return value.map((item) => walk(item, path));
    if (typeof value !== 'object' || value === null) return value;
    const { $ref, allOf, ...rest } = value as Record<string, unknown>;
    let out: Record<string, unknown> = {};
    if (typeof $ref === 'string') {
      const name = $ref.startsWith(COMPONENTS)
        ? decodeURIComponent($ref.slice(COMPONENTS.length))
        : undefined;
      const target = name === undefined ? undefined : components[name];
      if (name !== undefined && target !== undefined && !path.includes(name)) {
        out = walk(target, [...path, name]) as Record<string, unknown>;
      }
    }
    if (Array.isArray(allOf) && allOf.length === 1) {
      out = { ...out, ...(walk(allOf[0], path) as Record<string, unknown>) };
    } else if (allOf !== undefined) {
      out.allOf = walk(allOf, path);
    }
    for (const [key, item] of Object.entries(rest)) out[key] = walk(item, path);
    return out;
  };
  return walk(schema, []) as JsonSchema;
}
