/**
 * `aipm status --watch`: redraws a view in place on the terminal until
 * Ctrl-C. It draws on the alternate screen (the shell's screen comes back
 * untouched at exit), from the top-left corner, each line cleared to its end
 * and the rest of the screen cleared below, fitted to the terminal's height
 * and width (and redrawn when the terminal is resized). SIGINT, SIGTERM and
 * SIGHUP end it with the cursor shown and the normal screen restored.
 */

export interface WatchTerminal {
  write(text: string): void;
  rows(): number;
  cols(): number;
  onResize(fn: () => void): () => void;
}

export function processTerminal(): WatchTerminal {
  return {
    write: (t) => process.stdout.write(t),
    rows: () => process.stdout.rows || 24,
    cols: () => process.stdout.columns || 80,
    onResize: (fn) => {
      process.stdout.on("resize", fn);
      return () => process.stdout.off("resize", fn);
    },
  };
}

const ENTER = "\x1b[?1049h\x1b[?25l";
const LEAVE = "\x1b[?25h\x1b[?1049l";
const HOME = "\x1b[H";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";

/**
 * Draws `frame(rows, cols)` every `intervalMs` until a signal; resolves
 * then. `frame` returns the text to show (it must fit in `rows` lines).
 */
export async function watch(term: WatchTerminal, intervalMs: number, frame: (rows: number, cols: number) => Promise<string> | string): Promise<void> {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let done = false;
  const onSignal = () => {
    done = true;
    stop();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  let wake: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const offResize = term.onResize(() => wake());
  term.write(ENTER);
  try {
    while (!done) {
      const rows = term.rows();
      const text = await frame(rows, term.cols());
      const lines = text.replace(/\n$/, "").split("\n").slice(0, Math.max(1, rows - 1));
      term.write(`${HOME}${lines.map((l) => `${l}${CLEAR_LINE_END}`).join("\n")}\n${CLEAR_BELOW}`);
      await Promise.race([
        stopped,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, intervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
      ]);
    }
  } finally {
    clearTimeout(timer);
    offResize();
    for (const s of signals) process.off(s, onSignal);
    term.write(LEAVE);
  }
}
