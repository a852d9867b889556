/** How many attempts a task had, said truthfully when free retries did not count. */

/**
 * `attempt 2 of 3`, or `attempt 4 (2 of 2 counted)` when some attempts were
 * given back (a usage limit, a transient API error, a preemption): `attempt`
 * numbers every run, only `spent_attempts` counts against max_attempts.
 */
export function attemptText(t: { attempt: number; max_attempts: number; spent_attempts: number }): string {
  if (t.spent_attempts === t.attempt) return `attempt ${t.attempt} of ${t.max_attempts}`;
  return `attempt ${t.attempt} (${t.spent_attempts} of ${t.max_attempts} counted)`;
}

/** `3 attempts`, or `4 attempts (2 counted)`. */
export function attemptsText(attempts: number, spent: number): string {
  return `${attempts} attempt${attempts === 1 ? "" : "s"}${spent !== attempts ? ` (${spent} counted)` : ""}`;
}
