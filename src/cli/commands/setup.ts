/**
 * `aipm setup claude [DIR] [--dry-run]`: add aipm to a repository's Claude
 * Code configuration (`.mcp.json` entry, CLAUDE.md section). See
 * src/setup/claude-config.ts.
 */
import type { Argv } from "yargs";
import { resolve } from "node:path";
import { setupClaude, type SetupResult } from "../../setup/claude-config.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";

function render(r: SetupResult): string {
  const verb = (a: string) => (r.dry_run ? { create: "would create", update: "would update", unchanged: "unchanged" } : { create: "created", update: "updated", unchanged: "unchanged" })[a as "create"];
  return `${r.files.map((f) => `${verb(f.action)}: ${f.path}${f.action === "unchanged" ? "" : ` (${f.part})`}`).join("\n")}\n`;
}

export function registerSetup(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "setup <tool> [dir]",
    "add aipm to a repository's Claude Code configuration (.mcp.json entry, CLAUDE.md section)",
    (b) =>
      b
        .positional("tool", { type: "string", choices: ["claude"], demandOption: true })
        .positional("dir", { type: "string", describe: "the repository (default: the current directory)" })
        .option("dry-run", { type: "boolean", describe: "show what would change; write nothing" })
          .example("aipm setup claude", "this repository: .mcp.json entry and CLAUDE.md section")
          .example("aipm setup claude ../other --dry-run", "what it would change there"),
    (args) => {
      const r = setupClaude({ dir: resolve(io.cwd, args.dir ?? "."), dryRun: Boolean(args.dryRun) });
      emit(io, args, r, () => render(r));
    },
  );
}
