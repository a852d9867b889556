/**
 * The scope check: in a git project, which files did an attempt change
 * outside its target_files?
 *
 * When the attempt starts, `scopeBase` records HEAD and every dirty path
 * (`git status --porcelain -z`, untracked included, ignored excluded) with
 * its size and mtime. When it ends, `changedSince` lists the paths that are
 * dirty now and were not (or were, with another size/mtime), the dirty paths
 * that became clean (reverted or committed), and what commits made since the
 * start touched. The caller then keeps the paths that no entry of the task's
 * target_files covers — and that no other task running meanwhile was allowed
 * to edit (several workers share one working tree).
 *
 * `AIPM_SCOPE`: `warn` (default: an event, shown by `status` and `wait`),
 * `fail` (the attempt fails as `scope`), `off` (no check, no git calls).
 * Git runs as an argv (`git -C ROOT ...`), never through a shell.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { scopeSetting } from "../config/settings.js";

export type ScopeMode = "warn" | "fail" | "off";

export interface ScopeBase {
  /** `off`: only HEAD is kept (for the review's diff); nothing is checked. */
  mode: ScopeMode;
  head: string | null;
  /** path -> "size:mtimeMs" of the paths dirty at the start ("-" when missing). */
  dirty: Record<string, string>;
}

export function scopeMode(env: NodeJS.ProcessEnv): ScopeMode {
  return scopeSetting(env);
}

const gitRoots = new Map<string, boolean>();

/** Whether `dir` is inside a git working tree (a `.git` entry here or above), cached per process. */
export function inGitRepo(dir: string): boolean {
  const cached = gitRoots.get(dir);
  if (cached !== undefined) return cached;
  let d = resolve(dir);
  let found = false;
  for (;;) {
    if (existsSync(join(d, ".git"))) {
      found = true;
      break;
    }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  gitRoots.set(dir, found);
  return found;
}

export function git(root: string, args: string[]): string | null {
  try {
    // --no-optional-locks: `git status` must not take index.lock from under an agent's `git commit`.
    return execFileSync("git", ["--no-optional-locks", "-C", root, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 << 20,
      timeout: 30_000,
    });
  } catch {
    return null;
  }
}

/** The paths git reports as changed, relative to `root` (which may be below the repository's top). */
function dirtyPaths(root: string, exclude: string | null): string[] | null {
  const prefix = git(root, ["rev-parse", "--show-prefix"]);
  if (prefix === null) return null;
  const under = prefix.trim();
  // Porcelain paths are relative to the repository's top, whatever the cwd.
  const specs = exclude ? [".", `:(exclude)${exclude}`] : ["."];
  const out = git(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", ...specs]);
  if (out === null) return null;
  const paths: string[] = [];
  for (const entry of out.split("\0")) {
    if (entry.length < 4) continue;
    const p = entry.slice(3);
    if (p.startsWith(under)) paths.push(p.slice(under.length));
  }
  return paths;
}

function signature(root: string, path: string): string {
  try {
    const st = statSync(join(root, path));
    return `${st.size}:${Math.floor(st.mtimeMs)}`;
  } catch {
    return "-";
  }
}

function head(root: string): string | null {
  return git(root, ["rev-parse", "--verify", "-q", "HEAD"])?.trim() || null;
}

/**
 * The state to compare with at the end, or null outside git. `exclude`: a
 * folder (relative to root) that is not the task's doing — aipm's own, when
 * the database lives inside the project.
 */
export function scopeBase(root: string, mode: ScopeMode, exclude: string | null = null): ScopeBase | null {
  if (!inGitRepo(root)) return null;
  if (mode === "off") return { mode, head: head(root), dirty: {} };
  const dirty = dirtyPaths(root, exclude);
  if (dirty === null) return null;
  const sigs: Record<string, string> = {};
  for (const p of dirty) sigs[p] = signature(root, p);
  return { mode, head: head(root), dirty: sigs };
}

/** Paths (relative to root) changed since `base` was taken. */
export function changedSince(root: string, base: ScopeBase, exclude: string | null = null): string[] {
  const now = dirtyPaths(root, exclude);
  if (now === null) return [];
  const changed = new Set<string>();
  const nowSet = new Set(now);
  for (const p of now) {
    const before = base.dirty[p];
    if (before === undefined || before !== signature(root, p)) changed.add(p);
  }
  for (const p of Object.keys(base.dirty)) if (!nowSet.has(p)) changed.add(p);
  const h = head(root);
  if (base.head && h && h !== base.head) {
    const out = git(root, ["diff", "--name-only", "-z", "--no-renames", "--relative", base.head, h, "--"]);
    for (const p of (out ?? "").split("\0")) if (p) changed.add(p);
  }
  return [...changed].sort();
}

/** The database folder's path relative to root when it lies inside it (its logs are not the task's edits). */
export function insideRoot(root: string, dir: string): string | null {
  const rel = relative(resolve(root), resolve(dir));
  if (rel === "" || rel.startsWith("..") || rel.startsWith(sep)) return rel === "" ? "." : null;
  return rel.split(sep).join("/");
}
