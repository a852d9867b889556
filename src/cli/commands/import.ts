/** `aipm import FILE`: load a plan (YAML or JSON; `-` for stdin). */
import type { Argv } from "yargs";
import { existsSync } from "node:fs";
import { resolveDbPath } from "../../store/open.js";
import type { ImportResult } from "../../plan/import-plan.js";
import { emit, warn, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { thisHost } from "../../config/host.js";

export function renderImport(r: ImportResult): string {
  const kept = r.kept.length ? `, ${r.kept.length} kept (no longer QUEUED: ${r.kept.map((k) => `${k.task} ${k.status}`).join(", ")})` : "";
  return `imported ${r.project} (${r.orders.join(", ")}): ${r.added.length} added, ${r.updated.length} updated${kept}\nroot: ${r.root}\n`;
}

export function registerImport(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "import <file>",
    "load a plan file (YAML or JSON; - reads stdin)",
    (b) =>
      b
        .positional("file", { type: "string", demandOption: true, describe: "plan file" })
        .example("aipm import plan.yaml", "load (or update) the orders of plan.yaml")
        .example("cat plan.json | aipm import -", "read the plan from stdin"),
    async (args) => {
      // yargs-parser hands a lone "-" to a positional as "": both mean stdin.
      const [{ readPlanFile }, { preparePlan, importPrepared }] = await Promise.all([
        import("../../plan/read-plan-file.js"),
        import("../../plan/import-plan.js"),
      ]);
      const doc = readPlanFile(args.file === "" ? "-" : args.file, io.cwd);
      // Every check that needs no database first: a bad plan creates no database.
      const newDb = !existsSync(resolveDbPath({ db: args.db, env: io.env, cwd: io.cwd }));
      const prepared = preparePlan(doc.data, doc.baseDir, { newProject: newDb });
      const result = await withStore(io, args, (store) => importPrepared(store, prepared, thisHost(io.env).name), { create: true });
      warn(io, result.warnings);
      const { warnings: _w, ...json } = result;
      emit(io, args, json, () => renderImport(result));
    },
  );
}
