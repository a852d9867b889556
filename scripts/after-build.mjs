// After tsc: make the CLI executable and give workers `dist/bin/aipm`, a link to this
// installation's CLI that aipm puts first on every worker's PATH (`aipm progress 3/10`).
import { chmodSync, mkdirSync, rmSync, symlinkSync } from "node:fs";

chmodSync("dist/src/cli/main.js", 0o755);
mkdirSync("dist/bin", { recursive: true });
rmSync("dist/bin/aipm", { force: true });
symlinkSync("../src/cli/main.js", "dist/bin/aipm");
