/**
 * The order's branch `aipm/<order>` in a host's clone: fetched from the
 * remote, checked out, fast-forwarded — without ever changing a file that a
 * running task of this host holds (docs/hosts.md, "Edits across hosts").
 */
import { targetsConflict } from "../paths/conflicts.js";
import { git, GitError, runGit } from "./git-run.js";

export interface BranchPlace {
  /** The host's clone (its root for the project). */
  root: string;
  remote: string;
  order: string;
}

/** What this host's running tasks hold in the clone: their target files and their orders. */
export interface HeldHere {
  files: readonly string[];
  orders: ReadonlySet<string>;
}

export type BranchStep = { ok: true } | { ok: false; wait: string } | { ok: false; error: string };

export function branchOf(order: string): string {
  return `aipm/${order}`;
}

/**
 * Fetches the order's branch into `refs/remotes/<remote>/aipm/<order>`;
 * returns its commit, or null when the remote has no such branch.
 */
export async function fetchBranch(p: BranchPlace): Promise<string | null> {
  const branch = branchOf(p.order);
  const tracking = `refs/remotes/${p.remote}/${branch}`;
  const r = await runGit(p.root, ["fetch", "-q", "--no-tags", p.remote, `+refs/heads/${branch}:${tracking}`]);
  if (!r.ok) {
    if (/couldn't find remote ref/i.test(r.stderr)) return null;
    throw new GitError(["fetch"], r);
  }
  return (await git(p.root, ["rev-parse", "--verify", "-q", tracking])).trim();
}

export async function currentBranch(root: string): Promise<string> {
  return (await runGit(root, ["symbolic-ref", "-q", "--short", "HEAD"])).stdout.trim();
}

async function head(root: string): Promise<string> {
  return (await git(root, ["rev-parse", "--verify", "-q", "HEAD"])).trim();
}

/**
 * Moves the checked-out branch forward to `tip`. Waits (changes nothing) when
 * that would change a file a running task holds; an error when the clone's
 * branch has commits the remote lacks and the remote has others (diverged).
 * Git itself refuses to overwrite a file with uncommitted changes.
 */
export async function fastForward(root: string, tip: string, held: readonly string[]): Promise<BranchStep> {
  const at = await head(root);
  if (at === tip) return { ok: true };
  const behind = await runGit(root, ["merge-base", "--is-ancestor", at, tip]);
  if (!behind.ok) {
    const ahead = await runGit(root, ["merge-base", "--is-ancestor", tip, at]);
    if (ahead.ok) return { ok: true };
    return { ok: false, error: `the clone's branch and the remote's have diverged (${at.slice(0, 9)} vs ${tip.slice(0, 9)})` };
  }
  const changed = (await git(root, ["diff", "--name-only", "-z", "--no-renames", at, tip, "--"])).split("\0").filter(Boolean);
  for (const file of changed) {
    const holder = held.find((entry) => targetsConflict(entry, file));
    if (holder !== undefined) return { ok: false, wait: `fast-forward would change ${file}, held by a running task (${holder})` };
  }
  const r = await runGit(root, ["merge", "--ff-only", "-q", tip]);
  if (!r.ok) return { ok: false, error: `fast-forward failed: ${new GitError(["merge"], r).message}` };
  return { ok: true };
}

/**
 * Before a task of the order launches here: the clone fetches the order's
 * branch and has it checked out at the remote's tip (created from the
 * current HEAD when the remote has none). Switching the clone to another
 * order's branch waits until no task of this host runs in it.
 */
export async function prepareBranch(p: BranchPlace, held: HeldHere): Promise<BranchStep> {
  const branch = branchOf(p.order);
  const tip = await fetchBranch(p);
  const current = await currentBranch(p.root);
  if (current === branch) return tip === null ? { ok: true } : fastForward(p.root, tip, held.files);
  if (held.orders.size > 0) {
    return { ok: false, wait: `the clone is on ${current || "a detached HEAD"} while tasks of order ${[...held.orders].join(", ")} run in it` };
  }
  if (tip !== null) await git(p.root, ["checkout", "-q", "-B", branch, tip]);
  else {
    const exists = await runGit(p.root, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`]);
    await git(p.root, exists.ok ? ["checkout", "-q", branch] : ["checkout", "-q", "-b", branch]);
  }
  return { ok: true };
}
