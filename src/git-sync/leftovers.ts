/**
 * Leftovers of attempts that ended without being published (failed, killed,
 * crashed, recovered by lease, a push that could not be made): their target
 * files stay changed in the host's clone, where they would block the order's
 * fast-forward for good once another host pushed the same file (docs/hosts.md,
 * "Edits across hosts"). Restored to the branch's HEAD before a launch and
 * before a publish: only changed paths that some task of the project targets
 * and that no running task of this host holds — anything else (a build
 * artefact, a user's file no task targets) is left alone.
 */
import { targetsConflict } from "../paths/conflicts.js";
import { git, runGit } from "./git-run.js";

interface Changed {
  path: string;
  /** Untracked (`??`): removed by `git clean`, not restored. */
  untracked: boolean;
  /** Staged in the index (its first status column is set). */
  staged: boolean;
}

/** The clone's changed paths (relative to its top), optionally limited to `spec`. */
async function changedPaths(root: string, spec: readonly string[] = []): Promise<Changed[]> {
  const args = ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"];
  const out = await git(root, spec.length > 0 ? [...args, "--", ...spec] : args);
  const paths: Changed[] = [];
  for (const entry of out.split("\0")) {
    if (entry.length < 4) continue;
    const untracked = entry.startsWith("??");
    paths.push({ path: entry.slice(3), untracked, staged: !untracked && entry[0] !== " " });
  }
  return paths;
}

const literal = (path: string): string => `:(top,literal)${path}`;

/**
 * Restores the leftovers to HEAD (`git reset`, `git checkout`, `git clean -f`
 * on exactly those paths, argv arrays) and returns them, sorted; [] when
 * there were none. `targets`: every target file entry of the project's
 * tasks; `held`: the target files of this host's running tasks.
 */
export async function discardLeftovers(root: string, targets: readonly string[], held: readonly string[]): Promise<string[]> {
  if (targets.length === 0) return [];
  const leftovers = (await changedPaths(root)).filter(
    (c) => targets.some((t) => targetsConflict(t, c.path)) && !held.some((h) => targetsConflict(h, c.path)),
  );
  if (leftovers.length === 0) return [];
  const staged = leftovers.filter((c) => c.staged).map((c) => literal(c.path));
  const hasHead = (await runGit(root, ["rev-parse", "--verify", "-q", "HEAD"])).ok;
  if (staged.length > 0 && hasHead) await git(root, ["reset", "-q", "--", ...staged]);
  // After the reset a staged new file is untracked: ask again which is which.
  const now = await changedPaths(root, leftovers.map((c) => literal(c.path)));
  const tracked = now.filter((c) => !c.untracked).map((c) => literal(c.path));
  const untracked = now.filter((c) => c.untracked).map((c) => literal(c.path));
  if (tracked.length > 0) await git(root, ["checkout", "-q", "--", ...tracked]);
  if (untracked.length > 0) await git(root, ["clean", "-q", "-f", "--", ...untracked]);
  return leftovers.map((c) => c.path).sort();
}
