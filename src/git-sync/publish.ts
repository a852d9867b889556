/**
 * A task's edits, published when it ends DONE: its changed target files only
 * are committed on the order's branch (`aipm: <task> (<order>)`) and pushed
 * to the remote. A push refused as not a fast-forward (another host pushed
 * meanwhile) is retried: the commit is undone (the edits stay in the working
 * tree), the branch fast-forwarded to the remote's tip, the commit made again
 * and pushed — conflict-free by construction while tasks keep to their
 * target files. Any other refusal (a hook, permissions, the network) ends it:
 * the commit is undone and the reason returned; the task does not end DONE.
 */
import { targetsConflict } from "../paths/conflicts.js";
import { git, lastLine, runGit } from "./git-run.js";
import { branchOf, currentBranch, fastForward, fetchBranch, type BranchPlace } from "./order-branch.js";

export const PUSH_TRIES = 5;

/**
 * Another push got there first: refused as not a fast-forward (the remote
 * moved before our push read its refs), or its ref moved while our push was
 * being received (`cannot lock ref ... but expected`). Tried again.
 */
const LOST_RACE = /\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref/i;

export interface PublishInput extends BranchPlace {
  task: string;
  /** The task's target_files entries: only changed files they cover are committed. */
  targetFiles: readonly string[];
  /** Target files of this host's other running tasks (never changed by a fast-forward). */
  heldByOthers: readonly string[];
  /** This host's name: the author's address when git has no user configured (`aipm <aipm@HOST>`). */
  host: string;
}

export type PublishResult = { ok: true; commit: string | null; files: string[]; tries: number } | { ok: false; error: string };

/** Changed paths (relative to the clone's top) that the task's target files cover. */
async function changedTargets(root: string, targets: readonly string[]): Promise<string[]> {
  const out = await git(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]);
  const paths: string[] = [];
  for (const entry of out.split("\0")) {
    if (entry.length < 4) continue;
    const p = entry.slice(3);
    if (targets.some((t) => targetsConflict(t, p))) paths.push(p);
  }
  return paths;
}

/** `-c user.name=aipm -c user.email=aipm@HOST` when git has no identity configured here. */
async function identity(root: string, host: string): Promise<string[]> {
  const email = await runGit(root, ["config", "--get", "user.email"]);
  const name = await runGit(root, ["config", "--get", "user.name"]);
  const out: string[] = [];
  if (!name.ok || name.stdout.trim() === "") out.push("-c", "user.name=aipm");
  if (!email.ok || email.stdout.trim() === "") out.push("-c", `user.email=aipm@${host}`);
  return out;
}

/** The line of a refused push that says why (`! [remote rejected] ... (pre-receive hook declined)`). */
function pushReason(stderr: string): string {
  const line = stderr.split("\n").find((l) => /rejected|denied|error:|fatal:/i.test(l));
  return (line ?? lastLine(stderr)).trim().slice(0, 300);
}

export async function publishEdits(p: PublishInput): Promise<PublishResult> {
  const branch = branchOf(p.order);
  const where = `${p.remote} ${branch}`;
  try {
    const on = await currentBranch(p.root);
    if (on !== branch) return { ok: false, error: `push to ${where} failed: the clone is on ${on || "a detached HEAD"}, not ${branch}` };
    const who = await identity(p.root, p.host);
    for (let tries = 1; ; tries++) {
      const tip = await fetchBranch(p);
      if (tip !== null) {
        const ff = await fastForward(p.root, tip, p.heldByOthers);
        if (!ff.ok) return { ok: false, error: `push to ${where} failed: ${"wait" in ff ? ff.wait : ff.error}` };
      }
      const files = await changedTargets(p.root, p.targetFiles);
      if (files.length === 0) {
        // Nothing to commit. A task that made commits of its own has them pushed as they are.
        const at = (await git(p.root, ["rev-parse", "HEAD"])).trim();
        if (tip === null || at === tip) return { ok: true, commit: null, files, tries };
        const push = await runGit(p.root, ["push", "-q", p.remote, `HEAD:refs/heads/${branch}`]);
        if (push.ok) return { ok: true, commit: at, files, tries };
        return { ok: false, error: `push to ${where} failed: ${pushReason(push.stderr) || `exit code ${push.code ?? "?"}`}` };
      }
      const spec = files.map((f) => `:(top,literal)${f}`);
      await git(p.root, ["add", "-A", "--", ...spec]);
      await git(p.root, [...who, "commit", "-q", "--no-verify", "-m", `aipm: ${p.task} (${p.order})`, "--", ...spec]);
      const commit = (await git(p.root, ["rev-parse", "HEAD"])).trim();
      const push = await runGit(p.root, ["push", "-q", p.remote, `HEAD:refs/heads/${branch}`]);
      if (push.ok) return { ok: true, commit, files, tries };
      // Undo the commit; the edits stay in the working tree (for the next try; leftovers for the next launch here).
      await git(p.root, ["reset", "-q", "HEAD~1"]);
      const lostRace = LOST_RACE.test(push.stderr) && !/hook declined/i.test(push.stderr);
      if (!lostRace || tries >= PUSH_TRIES) {
        const why = pushReason(push.stderr) || `exit code ${push.code ?? "?"}`;
        return { ok: false, error: `push to ${where} failed${lostRace ? ` after ${tries} tries` : ""}: ${why}` };
      }
    }
  } catch (err) {
    return { ok: false, error: `push to ${where} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
