/**
 * Finds files shipped with the package (migrations/, assets) whether the code
 * runs from src/ (tests, through vitest) or from dist/src/ (the built CLI).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "migrations", "meta", "_journal.json"))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error("aipm: cannot find the package's migrations/ folder");
    dir = parent;
  }
}

/** The package's version (package.json), for `--version` style answers. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
