import { AuError, isAuErrorNamed } from './au-error';

/** One problem with an input, in the shape zod reports it. */
export interface ValidationIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
}

/** A task's input did not match its schema. Never retried. */
export class ValidationError extends AuError {
  readonly task: string;
  readonly issues: readonly ValidationIssue[];

  constructor({
    task,
    issues,
    cause,
  }: { task: string; issues: readonly ValidationIssue[]; cause?: unknown }) {
    const summary = issues
      .slice(0, 5)
      .map(
        (issue) =>
          `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(input)'}: ${issue.message}`,
      )
      .join('; ');
    super('AU_VALIDATION', { message: `[au] invalid input for task "${task}": ${summary}`, cause });
    this.name = 'ValidationError';
    this.task = task;
    this.issues = issues;
  }

  static override isInstance(error: unknown): error is ValidationError {
    return isAuErrorNamed(error, 'ValidationError');
  }
}
