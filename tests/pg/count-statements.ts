/**
 * How many SQL statements aipm runs per task, and how long they take, on
 * SQLite: the figure that says what a round trip to PostgreSQL will cost per
 * task. Runs the built CLI (`npm run build` first) on N independent `true`
 * tasks with every aipm process (CLI, supervisor, wrappers) counting the
 * better-sqlite3 statements it runs (a preload given through NODE_OPTIONS).
 *
 *   npx tsx tests/pg/count-statements.ts [N=200]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const N = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), "aipm-count-"));
const out = join(dir, "counts.jsonl");
const preload = join(dir, "count.mjs");
writeFileSync(
  preload,
  `import { createRequire } from "node:module";
import { appendFileSync } from "node:fs";
const Database = createRequire(${JSON.stringify(join(ROOT, "package.json"))})("better-sqlite3");
const probe = new Database(":memory:");
const proto = Object.getPrototypeOf(probe.prepare("SELECT 1"));
probe.close();
const counts = { statements: 0, writes: 0, ms: 0 };
for (const m of ["run", "get", "all", "iterate"]) {
  const orig = proto[m];
  proto[m] = function (...args) {
    const t = performance.now();
    try { return orig.apply(this, args); } finally {
      counts.ms += performance.now() - t;
      counts.statements++;
      if (!this.reader) counts.writes++;
    }
  };
}
process.on("exit", () => appendFileSync(${JSON.stringify(out)}, JSON.stringify({ argv: process.argv.slice(1, 3).join(" "), ...counts }) + "\\n"));
`,
);
const plan = { project: "bench", root: ".", orders: [{ id: "O", tasks: Array.from({ length: N }, (_, i) => ({ id: `t${i}`, command: ["true"] })) }] };
writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--import ${preload}`, AIPM_ENABLE_MONITORING: "false" };
delete env.AIPM_DB;
const cli = join(ROOT, "dist", "bin", "aipm");
for (const args of [["import", "plan.json"], ["parallel-launch", "bench", "O", "--wait", "--max-workers", "8"]]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`aipm ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
}
const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { argv: string; statements: number; writes: number; ms: number });
const sum = (xs: typeof rows) => xs.reduce((a, r) => ({ statements: a.statements + r.statements, writes: a.writes + r.writes, ms: a.ms + r.ms }), { statements: 0, writes: 0, ms: 0 });
const total = sum(rows);
const byKind = new Map<string, typeof rows>();
for (const r of rows) {
  const kind = r.argv.includes("worker/") ? r.argv.split("/").pop()! : r.argv.split(" ").slice(-1)[0]!;
  byKind.set(kind, [...(byKind.get(kind) ?? []), r]);
}
console.log(`${N} tasks of \`true\`, 8 workers: ${rows.length} aipm processes ran ${total.statements} statements (${total.writes} writes) in ${total.ms.toFixed(0)} ms of SQLite time`);
console.log(`per task: ${(total.statements / N).toFixed(1)} statements, ${(total.writes / N).toFixed(1)} writes, ${((total.ms / N) * 1000).toFixed(0)} µs`);
for (const [kind, rs] of byKind) {
  const s = sum(rs);
  console.log(`  ${kind}: ${rs.length} process(es), ${s.statements} statements (${(s.statements / N).toFixed(1)} per task)`);
}
rmSync(dir, { recursive: true, force: true });
