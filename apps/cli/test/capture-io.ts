import type { Io } from '../src/io';

/** An `Io` that keeps what commands write (not a terminal: no colours, no bars). */
export function captureIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    interactive: false,
    color: false,
    columns: 120,
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}
