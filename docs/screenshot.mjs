/**
 * Makes docs/dashboard.png: `npm run build && node docs/screenshot.mjs docs/dashboard.png [WIDTH] [VIEW]`
 * (needs /usr/bin/chromium). WIDTH: 1360 by default (390: a phone); VIEW: tasks, graph or timeline.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../dist/src/store/open.js";
import { startDashboard } from "../dist/src/dashboard/server.js";
import { execFileSync } from "node:child_process";
import { writeFileSync, rmSync } from "node:fs";
import { chromium } from "playwright-core";
const dir = join(tmpdir(), "aipm-screenshot"); rmSync(dir, { recursive: true, force: true });
const prog = (n, s) => `for i in $(seq 1 ${n}); do echo AIPM_PROGRESS $i/${n}; echo "step $i of ${n}"; sleep ${s}; done`;
const plan = { project: "shop", root: "./repo", orders: [
  { id: "ORDER_007", title: "Password reset", tasks: [
    { id: "SCHEMA", title: "Token table", priority: "P1", target_files: ["src/db/tokens.ts"], command: ["sh","-c", prog(4, 0.4)] },
    { id: "MAILER", title: "Reset e-mail template", target_files: ["src/mail/**"], command: ["sh","-c", prog(6, 0.5)] },
    { id: "API", title: "POST /reset endpoint", deps: ["SCHEMA"], target_files: ["src/api/reset/**"], command: ["sh","-c", prog(30, 0.5)] },
    { id: "RATE", title: "Rate-limit resets", deps: ["SCHEMA"], target_files: ["src/api/limits.ts"], command: ["sh","-c", "echo checking; exit 3"], max_attempts: 1 },
    { id: "UI", title: "Reset form", deps: ["MAILER"], target_files: ["web/reset/**"], command: ["sh","-c", prog(40, 0.5)] },
    { id: "E2E", title: "End-to-end test", deps: ["API", "UI"], target_files: ["tests/e2e/reset.spec.ts"], command: ["true"] },
    { id: "DOCS", title: "Document the flow", deps: ["RATE"], target_files: ["docs/reset.md"], command: ["true"] },
    { id: "ROLLBACK", title: "Revert the schema if the rate limit fails", deps: [{ task: "RATE", on: "failure" }], target_files: ["src/db/tokens.ts"], command: ["sh","-c", prog(20, 0.5)] },
    { id: "NOTIFY", title: "Tell the team", deps: [{ task: "E2E", on: "always" }], command: ["true"] },
  ]},
  { id: "ORDER_008", title: "Nightly data export", tasks: [ { id: "EXPORT", command: ["true"] } ] },
]};
execFileSync("mkdir", ["-p", dir]);
writeFileSync(`${dir}/plan.json`, JSON.stringify(plan));
const A = [new URL("../dist/src/cli/main.js", import.meta.url).pathname, "--db", `${dir}/aipm.db`];
execFileSync("node", [...A, "import", `${dir}/plan.json`]);
execFileSync("node", [...A, "parallel-launch", "shop", "ORDER_008", "--wait"]);
execFileSync("node", [...A, "parallel-launch", "shop", "ORDER_007", "--max-workers", "4"]);
const store = await openStore({ db: `${dir}/aipm.db` });
const d = await startDashboard({ store, host: "127.0.0.1", port: 0, env: process.env, sampleMs: 300 });
await new Promise((r) => setTimeout(r, 6000));
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox","--disable-gpu","--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run"] });
const width = Number(process.argv[3] ?? 1360);
const view = process.argv[4] ?? "tasks";
const p = await b.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });
await p.goto(`${d.url}orders/shop/ORDER_007${view === "tasks" ? "" : `?view=${view}`}`);
await p.waitForTimeout(1500);
if (process.env.WITH_LOG) {
  await p.locator('tr[data-task="API"] button[data-action="log"]').click();
  await p.waitForTimeout(800);
}
await p.screenshot({ path: process.argv[2], fullPage: width >= 600 });
await b.close(); await d.close(); store.close();
execFileSync("pkill", ["-f", dir]);
