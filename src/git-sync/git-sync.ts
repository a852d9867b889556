/**
 * Git sync for one project on this host (docs/hosts.md, "Edits across
 * hosts"): what the supervisor and `parallel-launch` call before a task of an
 * order launches (`beforeLaunch`: fetch and fast-forward the order's branch)
 * and when an attempt succeeds (`publish`: commit its target files, push).
 *
 * On when `AIPM_GIT_SYNC=on`, or `auto` (the default) with a PostgreSQL
 * database and a root that is a git work tree with the remote
 * (`AIPM_GIT_REMOTE`, default `origin`). Off otherwise: `forProject` returns
 * null and nothing here runs (one SQLite file: nothing changes). The queue of
 * `aipm enqueue` (commands run where they were enqueued) is never synced.
 */
import type { ThisHost } from "../config/host.js";
import { gitRemoteSetting } from "../config/settings.js";
import type { Store } from "../store/open.js";
import { effectiveRoot } from "../store/project-roots.js";
import { heldOnHost } from "../store/runs.js";
import { appendEvent } from "../store/events.js";
import { projectTargetFiles, targetFiles } from "../store/tasks-read.js";
import { QUEUE_ORDER, QUEUE_PROJECT } from "../runtime/queue-names.js";
import { runGit } from "./git-run.js";
import { discardLeftovers } from "./leftovers.js";
import { prepareBranch, type BranchStep } from "./order-branch.js";
import { publishEdits, type PublishResult } from "./publish.js";
import { withRootLock } from "./root-lock.js";
import { syncWanted } from "./root-need.js";

export class GitSync {
  /** Per root: whether sync is on there (`auto`: the root is a git work tree with the remote). */
  private readonly active = new Map<string, Promise<boolean>>();

  private constructor(
    private readonly store: Store,
    readonly project: string,
    private readonly host: ThisHost,
    readonly remote: string,
  ) {}

  /** Git sync for the project on this host, or null when it is off (nothing of it runs). */
  static forProject(store: Store, project: string, host: ThisHost, env: NodeJS.ProcessEnv): GitSync | null {
    if (!syncWanted(host, store.path)) return null;
    return new GitSync(store, project, host, gitRemoteSetting(env));
  }

  private synced(order: string): boolean {
    return !(this.project === QUEUE_PROJECT && order === QUEUE_ORDER);
  }

  /** This host's root for the project (its own; the detector launches nothing here without one). */
  private root(): string | undefined {
    return effectiveRoot(this.store, this.project, this.host.name);
  }

  private isActive(root: string): Promise<boolean> {
    let a = this.active.get(root);
    if (!a) {
      a = this.host.gitSync === "on" ? Promise.resolve(true) : runGit(root, ["remote", "get-url", this.remote]).then((r) => r.ok);
      this.active.set(root, a);
    }
    return a;
  }

  private held(except?: string): { files: string[]; orders: Set<string> } {
    const files: string[] = [];
    const orders = new Set<string>();
    for (const h of heldOnHost(this.store, this.project, this.host.name)) {
      if (h.task === except) continue;
      files.push(...h.files);
      orders.add(h.order);
    }
    return { files, orders };
  }

  /**
   * Leftovers of attempts that ended unpublished (changed files some task of
   * the project targets, none of this host's running tasks holds — `held`)
   * restored to the branch's HEAD, recorded as one `git_sync_discarded` event
   * naming them. Runs under the root lock.
   */
  private async discard(root: string, order: string, held: readonly string[]): Promise<void> {
    const files = await discardLeftovers(root, projectTargetFiles(this.store, this.project), held);
    if (files.length === 0) return;
    appendEvent(this.store, { kind: "git_sync_discarded", projectId: this.project, orderId: order, data: { files, order } }, this.store.now());
  }

  /**
   * Before tasks of `order` launch here (tasks found launchable before this
   * call began): the clone has the order's branch checked out at the
   * remote's tip. Null when sync is off for this root.
   */
  async beforeLaunch(order: string): Promise<BranchStep | null> {
    const root = this.root();
    if (root === undefined || !this.synced(order) || !(await this.isActive(root))) return null;
    try {
      return await withRootLock(root, async () => {
        // Read under the lock: a task another process of this host claimed meanwhile counts as held.
        const held = this.held();
        await this.discard(root, order, held.files);
        return prepareBranch({ root, remote: this.remote, order }, held);
      });
    } catch (err) {
      return { ok: false, error: `git sync of ${this.remote} aipm/${order} failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /** A successful attempt's edits, committed and pushed before it is recorded DONE. Null when sync is off. */
  async publish(order: string, task: string): Promise<PublishResult | null> {
    const root = this.root();
    if (root === undefined || !this.synced(order) || !(await this.isActive(root))) return null;
    const targets = targetFiles(this.store, this.project, task);
    return withRootLock(root, async () => {
      const heldByOthers = this.held(task).files;
      await this.discard(root, order, [...heldByOthers, ...targets]);
      return publishEdits({ root, remote: this.remote, order, task, targetFiles: targets, heldByOthers, host: this.host.name });
    }).catch((err: unknown) => ({ ok: false as const, error: `push to ${this.remote} aipm/${order} failed: ${err instanceof Error ? err.message : String(err)}` }));
  }
}

/**
 * A successful attempt's end once its edits were published: unchanged when
 * they were (or sync is off); otherwise a failure of kind `scope` whose error
 * names the push that could not be made — the task does not end DONE, and is
 * retried while attempts remain (its edits stay in the working tree until the
 * next launch or publish here discards them as leftovers: ./leftovers.ts).
 */
export function endAfterPublish<E extends { kind: string }>(
  end: E,
  r: PublishResult | null,
): E | { kind: "failed"; failureKind: "scope"; exitCode: 0; signal: null; error: string } {
  if (r === null || r.ok) return end;
  return { kind: "failed", failureKind: "scope", exitCode: 0, signal: null, error: r.error };
}
