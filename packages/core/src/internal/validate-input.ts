import { ValidationError } from '../errors/validation-error';
import type { InputSchema } from '../task';

/** Parses `input` with the task's schema; throws `ValidationError` with the issues. */
export function validateInput<T>(task: string, schema: InputSchema<T> | undefined, input: unknown): T {
  if (schema === undefined) return input as T;
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ValidationError({
    task,
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path,
      message: issue.message,
      ...(issue.code === undefined ? {} : { code: issue.code }),
    })),
  });
}
