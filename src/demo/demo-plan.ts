/**
 * The sample order `aipm demo` runs: a small DAG with priorities and file
 * conflicts, made of command tasks that report progress and take a second or
 * two, so that the live display has something to show.
 */
function step(label: string, steps: number, pause: number): string[] {
  // A fixed script; the label and numbers are passed as arguments, never spliced into it.
  const script = 'i=1; while [ "$i" -le "$2" ]; do echo "$1: step $i"; echo "AIPM_PROGRESS $i/$2"; sleep "$3"; i=$((i+1)); done';
  return ["sh", "-c", script, "demo-step", label, String(steps), String(pause)];
}

export function demoPlan(): Record<string, unknown> {
  return {
    project: "demo",
    root: "./workspace",
    orders: [
      {
        id: "ORDER_DEMO",
        title: "Login feature",
        tasks: [
          { id: "SCHEMA", title: "Database schema", priority: "P1", target_files: ["src/db/schema.ts"], command: step("schema", 4, 0.3) },
          { id: "MIGRATION", title: "Migration for the users table", priority: "P0", target_files: ["src/db/"], command: step("migration", 3, 0.3) },
          { id: "API", title: "Login endpoint", deps: ["SCHEMA"], target_files: ["src/api/**"], command: step("api", 5, 0.25) },
          { id: "UI", title: "Login form", priority: "P1", target_files: ["src/ui/login.tsx"], command: step("ui", 4, 0.3) },
          { id: "STYLE", title: "Form styles", priority: "P3", target_files: ["src/ui/*.css"], command: step("style", 2, 0.3) },
          { id: "LINT", title: "Lint every TypeScript file", priority: "P2", target_files: ["src/**/*.ts"], command: step("lint", 3, 0.2) },
          { id: "DOCS", title: "Document the login flow", priority: "P3", target_files: ["docs/login.md"], command: step("docs", 2, 0.3) },
          { id: "E2E", title: "End-to-end test", deps: ["API", "UI"], target_files: ["tests/login.spec.ts"], command: step("e2e", 4, 0.25) },
          // Runs only if the end-to-end test fails: here it passes, so this one ends SKIPPED.
          {
            id: "REPORT",
            title: "Report the end-to-end failure",
            deps: [{ task: "E2E", on: "failure" }],
            target_files: ["docs/e2e-report.md"],
            command: step("report", 1, 0.2),
          },
        ],
      },
    ],
  };
}
