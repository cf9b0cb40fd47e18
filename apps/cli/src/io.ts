import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Where a command writes, and whether it may draw (colours, bars, redraws). */
export interface Io {
  /** Writes to standard output (results, tables, JSON). */
  out(text: string): void;
  /** Writes to standard error (messages, hints). */
  err(text: string): void;
  /** Standard output is a terminal: draw bars and redraw views. */
  interactive: boolean;
  /** Colours are allowed (a terminal, no `NO_COLOR`, no `--no-color`). */
  color: boolean;
  /** Terminal width. @default 100 */
  columns: number;
  /** The stream progress bars draw on (standard error), when `interactive`. */
  barStream?: NodeJS.WritableStream;
}

/** The process's own streams. */
export function processIo(env: Readonly<Record<string, string | undefined>>): Io {
  const interactive = process.stdout.isTTY === true;
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    interactive,
    color: interactive && env.NO_COLOR === undefined && env.TERM !== 'dumb',
    columns: process.stdout.columns ?? 100,
    barStream: process.stderr,
  };
}

/** `text` in the given style when colours are allowed, else as is. */
export function paint(io: Pick<Io, 'color'>, style: Style, text: string): string {
  return io.color ? styleText(style, text) : text;
}
