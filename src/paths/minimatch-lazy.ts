/**
 * minimatch, loaded on first use (~10 ms): most launches compare plain paths
 * only and never need it. Its CommonJS build is required synchronously.
 */
import { createRequire } from "node:module";
import type * as MinimatchModule from "minimatch";

const require = createRequire(import.meta.url);
let mod: typeof MinimatchModule | undefined;

export function minimatchModule(): typeof MinimatchModule {
  return (mod ??= require("minimatch") as typeof MinimatchModule);
}
