/**
 * One updating progress line on stderr, only for a person at a terminal: when stderr is not a
 * TTY (a pipe, a log file, CI) nothing is written, so redirected output stays clean. Never on
 * stdout, which may carry --json.
 */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressWriter {
  /** Shows `line` in place of the previous one (at most every `everyMs`). */
  readonly update: (line: string) => void;
  /** Clears the line, so what follows starts on a clean line. */
  readonly done: () => void;
}

export function progressWriter(stream: ProgressStream, everyMs = 100, now: () => number = Date.now): ProgressWriter {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let shown = false;
  let at = -Infinity;
  return {
    update: (line) => {
      const t = now();
      if (t - at < everyMs) return;
      at = t;
      // Longer than the terminal is wide, \r would return to a wrapped row and leave the rest behind.
      const width = (stream.columns && stream.columns > 10 ? stream.columns : 80) - 1; // a pty may report 0 columns
      const fitted = line.length > width ? `${line.slice(0, width - 1)}…` : line;
      stream.write(`\r${fitted}\x1b[K`);
      shown = true;
    },
    done: () => {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
      at = -Infinity;
    },
  };
}
