/**
 * Normalisation and validation of task `target_files` entries.
 *
 * An entry is a path or a glob relative to the project root. Normalisation is
 * purely lexical and segment-wise (globs included, `**` is kept as is):
 * `./` segments, repeated slashes and a trailing `/` are dropped, `a/../b`
 * becomes `b`, and the whole project (`.`, `./`) becomes `.`. Nothing is
 * trimmed and backslashes are left alone (they are glob escapes).
 *
 * Rejected: empty or whitespace-only entries, NUL bytes, absolute paths
 * (`/x`, `\x`, `\\srv`, `C:\x`, `C:/x`), entries escaping the root (`../x`,
 * `a/../../x`), `..` right after a segment with glob syntax (`**` then `..`
 * has no lexical meaning), and globs whose brace expansions would be
 * rejected themselves (`{..,a}/x`) or are too many.
 */
import { minimatchModule } from './minimatch-lazy.js';

export type NormalizeResult = { ok: true; path: string } | { ok: false; error: string };

/** minimatch options for every target entry: POSIX semantics on every OS, dotfiles count, no comments/negation. */
export const GLOB_OPTIONS = { dot: true, nocomment: true, nonegate: true, platform: 'linux' } as const;

/** Most brace expansions one glob entry may have (they are compared pairwise). */
export const MAX_BRACE_EXPANSIONS = 256;

type Lexical = { ok: true; path: string } | { ok: false; reason: string };

/** Characters that make a segment glob syntax for the `..` rule (conservative). */
const GLOB_SYNTAX = /[*?[\]{}()]/;

/** The raw entry for an error message: as is when printable, else JSON-quoted; kept short. */
function show(raw: string): string {
  const s = raw.length > 120 ? `${raw.slice(0, 120)}…` : raw;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  return s === '' || s.trim() !== s || /[\u0000-\u001f\u007f]/.test(s) ? JSON.stringify(s) : s;
}

function lexical(raw: string): Lexical {
  if (raw.trim() === '') return { ok: false, reason: 'empty path' };
  if (raw.includes('\0')) return { ok: false, reason: 'NUL byte not allowed' };
  if (raw.startsWith('/') || raw.startsWith('\\') || /^[A-Za-z]:/.test(raw)) {
    return { ok: false, reason: 'absolute path not allowed' };
  }
  const out: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg !== '..') {
      out.push(seg);
      continue;
    }
    const prev = out.pop();
    if (prev === undefined) return { ok: false, reason: 'path escapes the project root' };
    if (GLOB_SYNTAX.test(prev)) return { ok: false, reason: "'..' after a glob segment not supported" };
  }
  return { ok: true, path: out.length === 0 ? '.' : out.join('/') };
}

export function normalizeTargetPath(raw: string): NormalizeResult {
  const r = lexical(raw);
  if (!r.ok) return { ok: false, error: `${r.reason}: ${show(raw)}` };
  if (isGlob(r.path)) {
    const expansions = minimatchModule().braceExpand(r.path, GLOB_OPTIONS);
    if (expansions.length > MAX_BRACE_EXPANSIONS) {
      return { ok: false, error: `too many brace expansions (max ${MAX_BRACE_EXPANSIONS}): ${show(raw)}` };
    }
    for (const e of expansions) {
      const x = lexical(e);
      if (!x.ok) return { ok: false, error: `${x.reason}: ${show(raw)}` };
    }
  }
  return { ok: true, path: r.path };
}

/**
 * Brace expansions of a normalised glob, each normalised (`a/{b,}` -> `a/b`, `a`),
 * deduplicated. An expansion that does not normalise is kept raw.
 */
export function expandTargetGlob(path: string): string[] {
  const out = new Set<string>();
  for (const e of minimatchModule().braceExpand(path, GLOB_OPTIONS)) {
    const x = lexical(e);
    out.add(x.ok ? x.path : e);
  }
  return [...out];
}

const globCache = new Map<string, boolean>();

/** True when the entry has glob magic in minimatch's sense (`*`, `?`, `[..]`, extglobs), braces included. */
export function isGlob(path: string): boolean {
  // Every kind of magic needs one of these characters; skip minimatch otherwise.
  if (!/[*?[{(]/.test(path)) return false;
  let v = globCache.get(path);
  if (v === undefined) {
    v = new (minimatchModule().Minimatch)(path, { ...GLOB_OPTIONS, magicalBraces: true }).hasMagic();
    if (globCache.size > 10_000) globCache.clear();
    globCache.set(path, v);
  }
  return v;
}
