/**
 * Colour and times for terminal output, in one place. Colour is on when
 * stdout is a terminal, unless NO_COLOR is set to anything non-empty
 * (https://no-color.org); FORCE_COLOR (non-empty, not "0" or "false")
 * turns it on anywhere, NO_COLOR still winning. Times are relative
 * ("2m ago", "in 30s") on a terminal and ISO 8601 off one, so piped output
 * stays stable for scripts.
 */

export interface Style {
  color: boolean;
  /** Relative times ("2m ago") rather than ISO 8601. */
  relative: boolean;
  now: number;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** Whether to colour output going to a stream that is (or is not) a terminal. */
export function colorWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return isTTY && env.TERM !== "dumb";
}

function sgr(on: boolean, code: string): (s: string) => string {
  return on ? (s) => (s === "" ? s : `\x1b[${code}m${s}\x1b[0m`) : (s) => s;
}

export function makeStyle(opts: { color: boolean; relative: boolean; now: number }): Style {
  const c = opts.color;
  return {
    ...opts,
    red: sgr(c, "31"),
    green: sgr(c, "32"),
    yellow: sgr(c, "33"),
    blue: sgr(c, "34"),
    magenta: sgr(c, "35"),
    cyan: sgr(c, "36"),
    dim: sgr(c, "2"),
    bold: sgr(c, "1"),
  };
}

/** Plain: no colour, ISO times. */
export const PLAIN: Style = makeStyle({ color: false, relative: false, now: 0 });

/** An SGR (colour) sequence: ESC [ ... m. */
const SGR = new RegExp(`${"\u001b"}\\[[0-9;]*m`, "g");
const SGR_HERE = new RegExp(`^${"\u001b"}\\[[0-9;]*m`);

/** Removes SGR colour codes (to measure or cut a line by what shows). */
export function stripAnsi(s: string): string {
  return s.replace(SGR, "");
}

/** Cuts a line to `cols` visible characters, keeping its colour codes balanced. */
export function fitWidth(line: string, cols: number): string {
  if (stripAnsi(line).length <= cols) return line;
  let out = "";
  let shown = 0;
  for (let i = 0; i < line.length && shown < cols - 1; ) {
    if (line[i] === "\x1b") {
      const m = SGR_HERE.exec(line.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    out += line[i];
    shown++;
    i++;
  }
  return `${out}…${line.includes("\x1b[") ? "\x1b[0m" : ""}`;
}

/** A duration: `45s`, `4m12s`, `2h05m`, `3d04h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** A moment, to follow a verb: "2m ago" / "in 30s" relative to now, or "at <ISO 8601>". */
export function when(st: Style, iso: string | null): string {
  if (iso === null) return "-";
  if (!st.relative) return `at ${iso}`;
  const d = Date.parse(iso) - st.now;
  if (Math.abs(d) < 1000) return "just now";
  return d < 0 ? `${duration(-d)} ago` : `in ${duration(d)}`;
}
