/**
 * Reading a plan document: YAML or JSON by extension (`.json` is JSON, anything
 * else YAML, which also reads JSON); `-` reads stdin. Malformed input becomes
 * one usage error that names the file and the parser's first complaint.
 */
import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { usageError } from "../errors.js";

export interface PlanDocument {
  data: unknown;
  /** Folder a relative `root` is resolved from. */
  baseDir: string;
  /** Name used in messages. */
  source: string;
}

export function parsePlanText(text: string, source: string, json: boolean): unknown {
  try {
    return json ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (err) {
    const first = String((err as Error).message ?? err).split("\n")[0];
    throw usageError(`${source}: malformed ${json ? "JSON" : "YAML"}: ${first}`);
  }
}

export function readPlanFile(file: string, cwd = process.cwd()): PlanDocument {
  if (file === "-") {
    let text: string;
    try {
      text = readFileSync(0, "utf8");
    } catch (err) {
      throw usageError(`cannot read the plan from stdin: ${(err as Error).message}`);
    }
    return { data: parsePlanText(text, "stdin", false), baseDir: cwd, source: "stdin" };
  }
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(`cannot read plan file ${file}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  return { data: parsePlanText(text, file, extname(path).toLowerCase() === ".json"), baseDir: dirname(path), source: file };
}
