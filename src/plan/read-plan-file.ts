/**
 * Reading a plan document: YAML or JSON by extension (`.json` is JSON, anything
 * else YAML, which also reads JSON); `-` reads stdin. Malformed input becomes
 * one usage error that names the file and the parser's first complaint.
 */
import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { usageError } from "../errors.js";
import { MAX_PLAN_DEPTH, valueTooDeep, yamlTooDeep } from "./nesting.js";

export interface PlanDocument {
  data: unknown;
  /** Folder a relative `root` is resolved from. */
  baseDir: string;
  /** Name used in messages. */
  source: string;
}

/**
 * Parses a plan; a document nested deeper than MAX_PLAN_DEPTH is refused
 * (YAML before the recursive composer sees it, JSON after V8's iterative
 * parser), so no input can overflow the stack.
 */
export function parsePlanText(text: string, source: string, json: boolean): unknown {
  const tooDeep = () => usageError(`${source}: nested more than ${MAX_PLAN_DEPTH} levels deep (a plan needs about 7)`);
  let data: unknown;
  try {
    if (!json && yamlTooDeep(text)) throw tooDeep();
    data = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (err) {
    if (err instanceof Error && err.name === "AipmError") throw err;
    if (err instanceof RangeError || /call stack/i.test(String((err as Error)?.message))) throw tooDeep();
    const first = String((err as Error).message ?? err).split("\n")[0];
    throw usageError(`${source}: malformed ${json ? "JSON" : "YAML"}: ${first}`);
  }
  if (valueTooDeep(data)) throw tooDeep();
  return data;
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
