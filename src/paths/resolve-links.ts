/**
 * Symlinks in `target_files`, resolved at input (import, `task add`) against
 * the project root as it is on disk:
 *
 * - the part of an entry that exists is followed through its symlinks (a
 *   glob: its static base, the segments before the first wildcard); the rest
 *   is kept as written;
 * - an entry that ends up outside the root is rejected with its place
 *   (`link/x` with `link -> /etc`);
 * - otherwise the entry is stored as its real path relative to the root, so
 *   two names of one file (`link/a.ts` and `real/a.ts`) are one lock and
 *   conflict.
 *
 * Purely lexical normalisation (./target-path.ts) comes first; this only reads
 * the file system. A root that does not exist yet has no links to follow.
 * Links created after the import are not seen (docs/locks.md).
 */
import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { isGlob, normalizeTargetPath } from "./target-path.js";

/** Linux's own limit on links followed while resolving one path. */
const MAX_LINKS = 40;

export type ResolveResult = { ok: true; path: string } | { ok: false; error: string };

/**
 * What one batch of entries (one import, one `task add`) has read of the disk:
 * the root's real path and, per path, whether it is a link (its target) or not
 * there. Without it a 1,000-task plan called realpath on its root and lstat on
 * the same folders thousands of times. Made per batch: never kept across them.
 */
export interface LinkCache {
  realRoots: Map<string, string | null>;
  /** An absolute path: its link's target, `false` for anything else that exists, `null` when missing. */
  entries: Map<string, string | false | null>;
}

export function newLinkCache(): LinkCache {
  return { realRoots: new Map(), entries: new Map() };
}

function realRootOf(root: string, cache: LinkCache | undefined): string | null {
  const hit = cache?.realRoots.get(root);
  if (hit !== undefined) return hit;
  let real: string | null;
  try {
    real = realpathSync(root);
  } catch {
    real = null;
  }
  cache?.realRoots.set(root, real);
  return real;
}

/** `path`'s link target, `false` when it exists and is no link, `null` when it does not exist. */
function linkAt(path: string, cache: LinkCache | undefined): string | false | null {
  const hit = cache?.entries.get(path);
  if (hit !== undefined) return hit;
  let r: string | false | null;
  try {
    r = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : false;
  } catch {
    r = null;
  }
  cache?.entries.set(path, r);
  return r;
}

/** Splits a normalised entry into the segments to follow and the glob tail kept as written. */
function split(entry: string): { fixed: string[]; tail: string[] } {
  const segs = entry === "." ? [] : entry.split("/");
  if (!isGlob(entry)) return { fixed: segs, tail: [] };
  // Conservative: the first segment with any glob character ends the static base.
  const i = segs.findIndex((s) => /[*?[\]{}()]/.test(s));
  return { fixed: segs.slice(0, i), tail: segs.slice(i) };
}

/** Follows `segs` from `realRoot` through existing symlinks; returns the absolute real path. */
function follow(realRoot: string, segs: string[], cache: LinkCache | undefined): { path: string; moved: boolean } | { error: string } {
  let cur = realRoot;
  const todo = [...segs];
  let links = 0;
  let exists = true;
  // A link followed or a `..`: the path on disk differs from the entry as written.
  let moved = false;
  while (todo.length > 0) {
    const seg = todo.shift()!;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      cur = join(cur, "..");
      moved = true;
      continue;
    }
    // `cur` is absolute and normalised, `seg` one plain name: a concatenation is `join` without its cost.
    const next = cur === sep ? sep + seg : cur + sep + seg;
    if (!exists) {
      cur = next;
      continue;
    }
    const target = linkAt(next, cache);
    if (target === null) {
      exists = false; // nothing more on disk: the rest is kept as written
      cur = next;
      continue;
    }
    if (target === false) {
      cur = next;
      continue;
    }
    if (++links > MAX_LINKS) return { error: "too many levels of symbolic links" };
    moved = true;
    if (isAbsolute(target)) cur = sep;
    todo.unshift(...target.split(/[/]+/));
  }
  return { path: cur, moved };
}

/** One normalised entry resolved within `root` (absolute). */
export function resolveTargetLinks(root: string, entry: string, cache?: LinkCache): ResolveResult {
  const realRoot = realRootOf(root, cache);
  if (realRoot === null) return { ok: true, path: entry };
  const { fixed, tail } = split(entry);
  if (fixed.length === 0) return { ok: true, path: entry };
  const r = follow(realRoot, fixed, cache);
  if ("error" in r) return { ok: false, error: `${r.error}: ${entry}` };
  // No link on the way (the common case): the entry, already normalised, is its own real path.
  if (!r.moved) return { ok: true, path: entry };
  const rel = relative(realRoot, r.path);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { ok: false, error: `path leaves the project root through a symlink: ${entry} (-> ${r.path})` };
  }
  const joined = [...(rel === "" ? [] : rel.split(sep)), ...tail].join("/");
  const n = normalizeTargetPath(joined === "" ? "." : joined);
  return n.ok ? { ok: true, path: n.path } : { ok: false, error: n.error };
}

/**
 * Resolves a task's entries in place (deduplicated); each problem is pushed
 * as `<place>[i]: ...`.
 */
export function resolveTaskTargets(root: string, targets: string[], place: string, errors: string[], cache?: LinkCache): string[] {
  const out: string[] = [];
  targets.forEach((t, i) => {
    const r = resolveTargetLinks(root, t, cache);
    if (!r.ok) errors.push(`${place}[${i}]: ${r.error}`);
    else if (!out.includes(r.path)) out.push(r.path);
  });
  return out;
}
