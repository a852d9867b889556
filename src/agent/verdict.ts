/**
 * A reviewer's verdict: the last line of its answer that reads
 * `VERDICT: APPROVE` or `VERDICT: REJECT` (case and markdown decoration
 * ignored). The feedback is the answer without that line.
 */
/** A review command's exit status for "no verdict: run me again later" (EX_TEMPFAIL). */
export const REVIEW_TEMPFAIL = 75;

const VERDICT = /^[\s*_`#>-]*verdict\s*:?\s*[*_`]*\s*(approve|approved|reject|rejected)\b/i;

export function parseVerdict(answer: string): { found: boolean; approved: boolean; feedback: string } {
  const lines = answer.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = VERDICT.exec(lines[i]!);
    if (m) {
      const approved = m[1]!.toLowerCase().startsWith("approve");
      const feedback = [...lines.slice(0, i), ...lines.slice(i + 1)].join("\n").trim();
      return { found: true, approved, feedback };
    }
  }
  return { found: false, approved: false, feedback: answer.trim() };
}
