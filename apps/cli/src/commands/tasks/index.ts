import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { paint } from '../../io';

export type TasksOptions = Record<string, never>;

/** `au tasks`: what the server runs, with each task's input fields, from its OpenAPI document. */
export async function run(_options: TasksOptions, context: CommandContext): Promise<number> {
  const tasks = await context
    .client()
    .tasks()
    .catch((error: unknown) => {
      throw explainError(error, context);
    });
  if (context.json) {
    context.io.out(`${JSON.stringify(tasks)}\n`);
    return EXIT_CODES.ok;
  }
  if (tasks.length === 0) {
    context.io.err(`${context.url} serves no tasks\n`);
    return EXIT_CODES.ok;
  }
  const blocks = tasks.map((task) => {
    const lines = [paint(context.io, 'bold', task.name) + (task.description ? `  ${task.description}` : '')];
    for (const field of describeFields(task.inputSchema)) lines.push(`  ${field}`);
    return lines.join('\n');
  });
  context.io.out(`${blocks.join('\n\n')}\n`);
  return EXIT_CODES.ok;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: JsonSchema;
}

/** `n: integer 0..20000 (required)` for each input field. */
export function describeFields(schema: unknown): string[] {
  const object = schema as JsonSchema | undefined;
  if (object?.properties === undefined) return object?.type ? [`input: ${String(object.type)}`] : [];
  return Object.entries(object.properties).map(([name, field]) => {
    let text = `${name}: ${describeType(field)}`;
    if (field.minimum !== undefined || field.maximum !== undefined) {
      text += ` ${field.minimum ?? ''}..${field.maximum ?? ''}`;
    }
    if (field.enum !== undefined)
      text += ` (one of ${field.enum.map((item) => JSON.stringify(item)).join(', ')})`;
    if (object.required?.includes(name)) text += ' (required)';
    else if (field.default !== undefined) text += ` (default ${JSON.stringify(field.default)})`;
    if (field.description) text += ` — ${field.description}`;
    return text;
  });
}

function describeType(field: JsonSchema): string {
  if (Array.isArray(field.type)) return field.type.join(' | ');
  if (field.type === 'array' && field.items !== undefined) return `array of ${describeType(field.items)}`;
  return field.type ?? 'any';
}
