// After tsc: bundle the CLI, make it executable and give workers `dist/bin/aipm`, a link to this
// installation's CLI that aipm puts first on every worker's PATH (`aipm progress 3/10`).
//
// The bundle (esbuild, already a dev dependency): the CLI's ~170 ES modules (ours, yargs, drizzle,
// yaml...) cost ~150 ms of CPU to resolve, load and link on every command; bundled into one file
// per command (code splitting keeps each command's own code in its chunk, loaded when it runs), a
// command starts in about half the time. dist/src/cli/main.js, the package's bin, becomes a
// one-line stub that loads dist/cli/main.js; the library (dist/src/index.js) and the workers
// (dist/worker/*) stay as tsc wrote them. AIPM_NO_BUNDLE=1 skips the bundle (the tsc output runs).
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

if (process.env.AIPM_NO_BUNDLE !== "1") {
  rmSync("dist/cli", { recursive: true, force: true });
  await build({
    entryPoints: ["dist/src/cli/main.js"],
    outdir: "dist/cli",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Native (better-sqlite3), loading its parts by computed paths (systeminformation), or
    // starting worker threads from its own files (piscina); node-postgres (CommonJS, with an
    // optional native binding it requires by name), loaded only for a postgres:// database by the
    // client's worker thread (dist/src/store/pg/sync-worker.js, as tsc wrote it) and the migrator.
    external: ["better-sqlite3", "systeminformation", "piscina", "pg", "pg-native"],
    // CommonJS dependencies bundled into ES modules call require() for Node's built-ins.
    banner: { js: "import { createRequire as __aipmRequire } from 'node:module'; const require = __aipmRequire(import.meta.url);" },
    logLevel: "warning",
  });
  writeFileSync("dist/src/cli/main.js", '#!/usr/bin/env node\n/** The `aipm` binary: the bundled CLI (see scripts/after-build.mjs). */\nimport "../../cli/main.js";\n');
}
chmodSync("dist/src/cli/main.js", 0o755);
mkdirSync("dist/bin", { recursive: true });
rmSync("dist/bin/aipm", { force: true });
symlinkSync("../src/cli/main.js", "dist/bin/aipm");
