/** `aipm setup claude`: .mcp.json merged, a marked CLAUDE.md section, idempotent, --dry-run writes nothing. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";
import { PM_SECTION, SECTION_BEGIN, SECTION_END } from "../src/setup/claude-config.js";

const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");
const run = (dir: string, ...extra: string[]) => cli(["setup", "claude", ...extra], { cwd: dir });

describe("aipm setup claude", () => {
  it("on a bare repository: creates .mcp.json and CLAUDE.md; a second run changes nothing", async () => {
    const dir = tempDir();
    const r = await run(dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(read(dir, ".mcp.json"))).toEqual({ mcpServers: { aipm: { command: "aipm", args: ["mcp"] } } });
    expect(read(dir, "CLAUDE.md")).toBe(`${SECTION_BEGIN}\n${PM_SECTION}\n${SECTION_END}\n`);
    expect(readdirSync(dir).sort()).toEqual([".mcp.json", "CLAUDE.md"]);
    const before = [read(dir, ".mcp.json"), read(dir, "CLAUDE.md")];
    const again = await run(dir, "--json");
    expect(JSON.parse(again.stdout).files.map((f: any) => f.action)).toEqual(["unchanged", "unchanged"]);
    expect([read(dir, ".mcp.json"), read(dir, "CLAUDE.md")]).toEqual(before);
  });

  it("merges with existing servers and CLAUDE.md text, keeps an existing aipm entry, replaces an old section in place", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { other: { command: "x", args: ["y"] } }, extra: 1 }));
    writeFileSync(join(dir, "CLAUDE.md"), `# Project\n\nUse tabs.\n\n${SECTION_BEGIN}\nold text\n${SECTION_END}\n\n## After\nkeep me\n`);
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "a.ts"), "x");
    const r = await run(dir, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files.map((f: any) => f.action)).toEqual(["update", "update"]);
    expect(JSON.parse(read(dir, ".mcp.json"))).toEqual({
      mcpServers: { other: { command: "x", args: ["y"] }, aipm: { command: "aipm", args: ["mcp"] } },
      extra: 1,
    });
    const md = read(dir, "CLAUDE.md");
    expect(md).toBe(`# Project\n\nUse tabs.\n\n${SECTION_BEGIN}\n${PM_SECTION}\n${SECTION_END}\n\n## After\nkeep me\n`);
    expect(readdirSync(dir).sort()).toEqual([".mcp.json", "CLAUDE.md", "src"]);
    expect(read(dir, "src/a.ts")).toBe("x");

    // A user's own aipm entry is theirs: kept as it is.
    writeFileSync(join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { aipm: { command: "npx", args: ["aipm", "mcp"] } } }));
    const kept = await run(dir, "--json");
    expect(JSON.parse(kept.stdout).files[0].action).toBe("unchanged");
    expect(JSON.parse(read(dir, ".mcp.json")).mcpServers.aipm.command).toBe("npx");
  });

  it("appends its section to a CLAUDE.md without one", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "CLAUDE.md"), "# Mine\nno newline at end");
    await run(dir);
    expect(read(dir, "CLAUDE.md")).toBe(`# Mine\nno newline at end\n\n${SECTION_BEGIN}\n${PM_SECTION}\n${SECTION_END}\n`);
  });

  it("--dry-run says what would change and writes nothing", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "CLAUDE.md"), "# Mine\n");
    const r = await run(dir, "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would create: .*\.mcp\.json/);
    expect(r.stdout).toMatch(/would update: .*CLAUDE\.md/);
    expect(readdirSync(dir)).toEqual(["CLAUDE.md"]);
    expect(read(dir, "CLAUDE.md")).toBe("# Mine\n");
  });

  it("bad input: one line, exit 2, nothing written", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".mcp.json"), "{ not json");
    const r = await run(dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/\.mcp\.json: not valid JSON/);
    expect(readdirSync(dir)).toEqual([".mcp.json"]);
    const other = await cli(["setup", "cursor"], { cwd: dir });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/Invalid values|Choices/);
  });
});
