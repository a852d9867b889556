/**
 * How deeply a plan document nests, measured without recursion. A plan needs
 * about 7 levels (plan > orders > order > tasks > task > deps > dep); anything
 * deeper than MAX_PLAN_DEPTH is refused before a recursive step (the YAML
 * composer, JSON.stringify in a message, validation) can overflow the stack.
 *
 * YAML is measured on yaml's concrete syntax tree: its Parser is a stack
 * machine (100,000 levels parse in ~2 s), while its composer recurses and
 * fails near 1,000 levels. That walk costs about 1 µs a byte, so a cheap
 * upper bound from yaml's Lexer comes first and settles ordinary plans:
 * flow depth is counted exactly from the flow tokens, and a block collection
 * nests only by more indentation or by another indicator (`- `, `? `, `: `)
 * on the same line.
 */
import { CST, Lexer, Parser } from "yaml";

export const MAX_PLAN_DEPTH = 100;

/** True when `value` (parsed JSON/YAML) holds arrays/objects nested deeper than `max`. */
export function valueTooDeep(value: unknown, max = MAX_PLAN_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

interface CstNode {
  type?: string;
  value?: unknown;
  items?: Array<{ key?: unknown; value?: unknown }>;
}

/** An upper bound on the nesting depth of YAML text (see above). */
function yamlDepthBound(text: string): number {
  let maxIndent = 0;
  for (const m of text.matchAll(/^ +/gm)) if (m[0].length > maxIndent) maxIndent = m[0].length;
  let flow = 0;
  let maxFlow = 0;
  let onLine = 0;
  let maxOnLine = 0;
  for (const token of new Lexer().lex(text)) {
    switch (CST.tokenType(token)) {
      case "flow-map-start":
      case "flow-seq-start":
        if (++flow > maxFlow) maxFlow = flow;
        break;
      case "flow-map-end":
      case "flow-seq-end":
      case "flow-error-end":
        flow = Math.max(0, flow - 1);
        break;
      case "seq-item-ind":
      case "explicit-key-ind":
      case "map-value-ind":
        if (++onLine > maxOnLine) maxOnLine = onLine;
        break;
      case "newline":
        onLine = 0;
        break;
      default:
        break;
    }
  }
  return maxIndent + maxOnLine + maxFlow + 2;
}

/** True when YAML text nests collections (block or flow) deeper than `max`. */
export function yamlTooDeep(text: string, max = MAX_PLAN_DEPTH): boolean {
  if (yamlDepthBound(text) <= max) return false;
  for (const doc of new Parser().parse(text)) {
    const stack: Array<[CstNode | null | undefined, number]> = [[doc as CstNode, 0]];
    while (stack.length > 0) {
      const [t, depth] = stack.pop()!;
      if (!t || typeof t !== "object") continue;
      if (t.type === "document") {
        stack.push([t.value as CstNode, depth]);
        continue;
      }
      if (t.type !== "block-map" && t.type !== "block-seq" && t.type !== "flow-collection") continue;
      if (depth >= max) return true;
      for (const item of t.items ?? []) {
        stack.push([item.key as CstNode, depth + 1]);
        stack.push([item.value as CstNode, depth + 1]);
      }
    }
  }
  return false;
}
