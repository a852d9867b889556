/**
 * The pairwise conflict rule between two normalised `target_files` entries.
 *
 * Two entries conflict when they may touch the same file. The spec:
 * - `.` (the whole project) conflicts with everything.
 * - literal vs literal: equal, or one is a segment-prefix of the other
 *   (`src` vs `src/a.ts` conflict, `src` vs `srcx/a` do not). Any literal may
 *   be a directory, so the prefix rule applies without a trailing slash.
 * - A glob is brace-expanded first (`{a,b}/*.ts` -> `a/*.ts`, `b/*.ts`, each
 *   normalised); it conflicts when any expansion does. An expansion without
 *   magic is a literal. The static base of a glob is its leading segments
 *   without magic (or escapes): `src/api/**\/*.ts` -> `src/api`; none -> `.`.
 * - glob G vs literal P: conflict if P matches G, or P is an ancestor of, or
 *   equal to, G's static base, or P may be a directory holding a match
 *   (minimatch `partial` match). A literal whose last segment has an
 *   extension (`src/a.ts`) is taken to be a file here, so `**\/*.css` does not
 *   conflict with `src/a.ts`; one without (`src/lib`, `Makefile`, `.github`)
 *   may be a directory. Matching uses `{ dot: true }`: dotfiles count.
 * - glob vs glob: conflict unless provably disjoint, which is when
 *   (1) their static bases are not segment-prefix related
 *       (`src/**` vs `docs/**` disjoint, `src/**` vs `src/api/*.ts` conflict), or
 *   (2) both last segments end in literal text after their last magic
 *       character and neither suffix ends with the other
 *       (`**\/*.ts` vs `**\/*.css` disjoint, `*.ts` vs `*.d.ts` conflict), or
 *   (3) both last segments start with literal text before their first magic
 *       character and neither prefix starts with the other
 *       (`a/foo*` vs `a/bar*` disjoint, `a/foo*` vs `a/f*` conflict).
 *   A last segment that is `**` defeats (2) and (3).
 * The rule is symmetric. Compiled globs are cached (bounded) for hot loops.
 */
import type { Minimatch } from 'minimatch';
import { minimatchModule } from './minimatch-lazy.js';
import { GLOB_OPTIONS, expandTargetGlob, isGlob } from './target-path.js';

/** One brace expansion of an entry. `mm` is set for globs only. */
interface Part {
  path: string;
  mm?: Minimatch;
  /** static base for a glob, the path itself for a literal */
  base: string;
  /** literal text before the first / after the last magic char of the last segment; '' if none */
  prefix: string;
  suffix: string;
}

/** Conservative set of characters that may be magic inside a segment. */
const MAGIC = /[*?[\]{}()!+@|\\]/;
const MATCH_OPTIONS = { ...GLOB_OPTIONS, nobrace: true } as const;
const CACHE_LIMIT = 10_000;
const cache = new Map<string, Part[]>();

/** Literal vs literal: equal, or one is a segment-prefix of the other. */
export function pathsOverlap(a: string, b: string): boolean {
  if (a.length === b.length) return a === b;
  const [s, l] = a.length < b.length ? [a, b] : [b, a];
  return l.charCodeAt(s.length) === 47 /* / */ && l.startsWith(s);
}

function literalPart(path: string): Part {
  return { path, base: path, prefix: '', suffix: '' };
}

function globPart(path: string): Part {
  const mm = new (minimatchModule().Minimatch)(path, MATCH_OPTIONS);
  if (!mm.hasMagic()) return literalPart(path);
  const segs = path.split('/');
  const baseSegs: string[] = [];
  for (const s of segs) {
    if (MAGIC.test(s) && (s.includes('\\') || new (minimatchModule().Minimatch)(s, MATCH_OPTIONS).hasMagic())) break;
    baseSegs.push(s);
  }
  // A `**` last segment has no literal text, so it gets '' for both and defeats rules (2) and (3).
  const last = segs[segs.length - 1] ?? '';
  const chars = [...last];
  const first = chars.findIndex((c) => MAGIC.test(c));
  const lastIdx = chars.findLastIndex((c) => MAGIC.test(c));
  const prefix = first === -1 ? last : chars.slice(0, first).join('');
  const suffix = lastIdx === -1 ? last : chars.slice(lastIdx + 1).join('');
  return { path, mm, base: baseSegs.length === 0 ? '.' : baseSegs.join('/'), prefix, suffix };
}

function compile(entry: string): Part[] {
  if (!isGlob(entry)) return [literalPart(entry)];
  let parts = cache.get(entry);
  if (parts === undefined) {
    parts = expandTargetGlob(entry).map(globPart);
    if (cache.size > CACHE_LIMIT) cache.clear();
    cache.set(entry, parts);
  }
  return parts;
}

/** A literal whose last segment has no extension (`lib`, `Makefile`, `.github`) may name a directory. */
function mayBeDirectory(p: string): boolean {
  return p.lastIndexOf('.') <= p.lastIndexOf('/') + 1;
}

function globVsLiteral(g: Part, p: string): boolean {
  // P ancestor-or-equal of the static base: a cheap first check. Then a full
  // match, or a partial one (P may be a directory holding a match).
  const mm = g.mm as Minimatch;
  return g.base === p || g.base.startsWith(`${p}/`) || mm.match(p) || (mayBeDirectory(p) && mm.match(p, true));
}

function globVsGlob(x: Part, y: Part): boolean {
  if (x.base !== '.' && y.base !== '.' && !pathsOverlap(x.base, y.base)) return false; // (1)
  const xs = x.suffix;
  const ys = y.suffix;
  if (xs !== '' && ys !== '' && !xs.endsWith(ys) && !ys.endsWith(xs)) return false; // (2)
  const xp = x.prefix;
  const yp = y.prefix;
  if (xp !== '' && yp !== '' && !xp.startsWith(yp) && !yp.startsWith(xp)) return false; // (3)
  return true;
}

function partsConflict(x: Part, y: Part): boolean {
  if (x.path === '.' || y.path === '.') return true;
  if (x.mm === undefined) return y.mm === undefined ? pathsOverlap(x.path, y.path) : globVsLiteral(y, x.path);
  return y.mm === undefined ? globVsLiteral(x, y.path) : globVsGlob(x, y);
}

/** Whether two normalised entries may touch the same file (symmetric). */
export function targetsConflict(a: string, b: string): boolean {
  if (a === '.' || b === '.') return true;
  const ga = isGlob(a);
  const gb = isGlob(b);
  if (!ga && !gb) return pathsOverlap(a, b);
  const pa = compile(a);
  const pb = compile(b);
  return pa.some((x) => pb.some((y) => partsConflict(x, y)));
}

/**
 * Literal anchors of an entry: a held literal can conflict with `path` only if it
 * is segment-prefix related to one of them (`.` means any). Used by LockIndex.
 */
export function targetAnchors(path: string): string[] {
  return compile(path).map((p) => p.base);
}

/** The first pair (in order, `as` outer) of conflicting entries, if any. */
export function firstConflict(
  as: readonly string[],
  bs: readonly string[],
): { mine: string; theirs: string } | undefined {
  for (const mine of as) {
    for (const theirs of bs) {
      if (targetsConflict(mine, theirs)) return { mine, theirs };
    }
  }
  return undefined;
}
