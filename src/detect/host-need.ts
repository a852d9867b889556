/**
 * The skip reason `host`: a task whose `runs_on` labels this host lacks. The
 * rule (one place for the detector and the claim) and its words (one
 * sentence for every renderer: status, explain, launch reports, the
 * dashboard).
 */

/** True when the task may run on a host with these labels (it asks for none, or for labels it has). */
export function hostHasLabels(runsOn: readonly string[] | null | undefined, labels: readonly string[]): boolean {
  return !runsOn || runsOn.every((l) => labels.includes(l));
}
export interface HostNeed {
  runs_on: readonly string[];
  host: string | null;
  host_labels: readonly string[];
  /** Git sync is on and this host has no root of its own for the project. */
  no_root?: true;
}

/** `needs a host with labels gpu (this host vm1: none)`. */
export function hostNeedText(s: HostNeed): string {
  if (s.no_root) return `no root on this host ${s.host ?? "?"} (git sync: run aipm import in this host's clone)`;
  const labels = s.host_labels.length ? s.host_labels.join(",") : "none";
  return `needs a host with label${s.runs_on.length === 1 ? "" : "s"} ${s.runs_on.join(",")} (this host ${s.host ?? "?"}: ${labels})`;
}
