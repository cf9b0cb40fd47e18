import { AuError, isAuErrorNamed } from './au-error';

/** A launch named a parent (`dependsOn`) that is not in the store: refused, nothing written. */
export class UnknownDependencyError extends AuError {
  readonly task: string;
  /** The parent keys the store does not have. */
  readonly missing: readonly string[];

  constructor({ task, missing, store }: { task: string; missing: readonly string[]; store: string }) {
    super('AU_UNKNOWN_DEPENDENCY', {
      message: `[au] launch of task "${task}" refused: dependsOn names ${missing.map((key) => `"${key}"`).join(', ')}, not in store ${store} (never launched, or expired); launch the parent first, in the same store`,
    });
    this.name = 'UnknownDependencyError';
    this.task = task;
    this.missing = missing;
  }

  static override isInstance(error: unknown): error is UnknownDependencyError {
    return isAuErrorNamed(error, 'UnknownDependencyError');
  }
}
