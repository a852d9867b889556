/**
 * Git work in one root, one at a time: the tasks of a host share its clone's
 * working tree, and fetch, fast-forward, commit and push must not interleave
 * (two commits at once would fight over the index). In this process a promise
 * chain per root; across processes (a supervisor and a `parallel-launch` on
 * the same host) a proper-lockfile lock in the clone's git directory
 * (`aipm-sync.lock`, stale after 30 s without its holder's updates).
 */
import { join } from "node:path";
import { git } from "./git-run.js";

const chains = new Map<string, Promise<unknown>>();

export async function withRootLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const before = chains.get(root) ?? Promise.resolve();
  const run = before.then(
    () => locked(root, fn),
    () => locked(root, fn),
  );
  const tail = run.catch(() => undefined);
  chains.set(root, tail);
  try {
    return await run;
  } finally {
    if (chains.get(root) === tail) chains.delete(root);
  }
}

async function locked<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const gitDir = (await git(root, ["rev-parse", "--absolute-git-dir"])).trim();
  const { default: lockfile } = await import("proper-lockfile");
  const release = await lockfile.lock(root, {
    lockfilePath: join(gitDir, "aipm-sync.lock"),
    stale: 30_000,
    retries: { retries: 600, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
