/**
 * Checking an MCP tool call's arguments against the tool's (flat) input
 * schema before anything is opened or written: one line per call, in the
 * CLI's words (`task: expected a string, got 3`).
 */
import { usageError } from "../errors.js";

export type ArgType = "string" | "integer" | "number" | "boolean";

export interface ArgSchema {
  type: "object";
  properties: Record<string, { type: ArgType; description?: string }>;
  required?: string[];
}

export type Args = Record<string, string | number | boolean | undefined>;

export function checkArgs(tool: string, schema: ArgSchema, raw: unknown): Args {
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw usageError(`${tool}: expected an object of arguments`);
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (!(k in schema.properties)) throw usageError(`${tool}: unknown argument ${k} (known: ${Object.keys(schema.properties).join(", ")})`);
  }
  for (const k of schema.required ?? []) {
    if (given[k] === undefined || given[k] === null || given[k] === "") throw usageError(`${tool}: missing argument ${k}`);
  }
  const out: Args = {};
  for (const [k, p] of Object.entries(schema.properties)) {
    const v = given[k];
    if (v === undefined || v === null) continue;
    const ok =
      p.type === "integer" ? Number.isInteger(v) : p.type === "number" ? typeof v === "number" && Number.isFinite(v) : typeof v === p.type;
    if (!ok) throw usageError(`${k}: expected ${p.type === "integer" ? "an integer" : `a ${p.type}`}, got ${JSON.stringify(v)}`);
    out[k] = v as string | number | boolean;
  }
  return out;
}
