import { AuError, isAuErrorNamed } from './au-error';

/** A setting (an option, or an `AU_*` environment variable) has a value au cannot use. */
export class ConfigError extends AuError {
  readonly setting: string;
  /** What is wrong, without the setting's name (to say it again about another source, e.g. a file key). */
  readonly reason: string;

  constructor({ setting, message, cause }: { setting: string; message: string; cause?: unknown }) {
    super('AU_CONFIG', { message: `[au] ${setting}: ${message}`, cause });
    this.name = 'ConfigError';
    this.setting = setting;
    this.reason = message;
  }

  static override isInstance(error: unknown): error is ConfigError {
    return isAuErrorNamed(error, 'ConfigError');
  }
}
