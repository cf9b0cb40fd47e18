type JsonSchema = Record<string, unknown>;

/** A task's input schema with its shared parts moved out as components. */
export interface InputComponents {
  /** The body schema, pointing at `components` with `$ref: '<id>#'`. */
  body: JsonSchema;
  /** Schemas to register with `app.addSchema` (each with its `$id`) before the route. */
  components: JsonSchema[];
}

/**
 * Moves the `definitions` zod writes for a reused or recursive part of an input schema
 * (`.meta({ id })`, `z.lazy`) into components named `<operationId>.<name>`, and points
 * its `#/definitions/…` refs at them. OpenAPI keeps no `definitions` inside a body: left
 * there, the document would point at components that do not exist. The prefix keeps two
 * tasks' parts of the same name apart.
 */
export function inputComponents(schema: JsonSchema, operationId: string): InputComponents {
  const definitions = schema.definitions as Record<string, JsonSchema> | undefined;
  if (definitions === undefined || typeof definitions !== 'object') return { body: schema, components: [] };
  const idOf = (name: string) => `${operationId}.${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    const out: JsonSchema = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && item.startsWith('#/definitions/')) {
        out.$ref = `${idOf(decodeURIComponent(item.slice('#/definitions/'.length)))}#`;
      } else {
        out[key] = rewrite(item);
      }
    }
    return out;
  };
  const { definitions: _definitions, ...rest } = schema;
  return {
    body: rewrite(rest) as JsonSchema,
    components: Object.entries(definitions).map(([name, definition]) => ({
      $id: idOf(name),
      ...(rewrite(definition) as JsonSchema),
    })),
  };
}
