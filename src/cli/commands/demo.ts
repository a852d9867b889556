/**
 * `aipm demo`: make a sample project in a temp folder, import its order (a DAG
 * with priorities and file conflicts) and show what would launch and why.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Argv } from "yargs";
import { demoPlan } from "../../demo/demo-plan.js";
import { importPlan } from "../../plan/import-plan.js";
import { planLaunch } from "../../launch/plan-launch.js";
import { resolveLaunchOptions } from "../../config/launch-options.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { renderLaunchReport } from "../render/launch-report.js";
import { renderImport } from "./import.js";

export function registerDemo(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "demo",
    "make a demo project in a temp folder, import a sample order and show what would launch",
    (b) => b,
    async (args) => {
      const dir = mkdtempSync(join(tmpdir(), "aipm-demo-"));
      const db = args.db !== undefined ? resolve(io.cwd, args.db) : join(dir, ".aipm", "aipm.db");
      io.stderr(`demo project in ${dir}\n`);
      await withStore(io, { ...args, db }, async (store) => {
        const imported = importPlan(store, demoPlan(), dir);
        const options = resolveLaunchOptions({}, io.env);
        const { report } = await planLaunch(store, {
          project: imported.project,
          order: "ORDER_DEMO",
          options,
          monitor: options.monitoring ? createResourceMonitor({ now: store.now }) : undefined,
          dryRun: true,
        });
        emit(io, args, { dir, db: store.path, import: { ...imported, warnings: undefined }, launch: report }, () =>
          [
            renderImport(imported),
            renderLaunchReport(report),
            `next: aipm --db ${store.path} status demo\n`,
          ].join("\n"),
        );
      });
    },
  );
}
