import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { probe, save } from "../probe.js";
import { steps, toolUse, text } from "../anthropic-server.js";
import { newHome } from "../run-claude.js";
const S = ["-p", "--output-format", "stream-json", "--verbose"];
const DA = ["--permission-mode", "dontAsk"];
const trusted = (files: Record<string,string>) => {
  const cwd = mkdtempSync(tmpdir() + "/probe-cwd-"); const home = newHome();
  writeFileSync(home + "/.claude.json", JSON.stringify({ projects: { [cwd]: { hasTrustDialogAccepted: true } } }));
  return { cwd, home, files };
};
const proj = { ".claude/settings.json": JSON.stringify({ permissions: { allow: ["Edit(**)"] } }) };
const local = { ".claude/settings.local.json": JSON.stringify({ permissions: { allow: ["Edit(**)"] } }) };
const projSlash = { ".claude/settings.json": JSON.stringify({ permissions: { allow: ["Edit(/a.txt)"] } }) };
const mcp = { ".mcp.json": JSON.stringify({ mcpServers: { projsrv: { command: "/bin/false", args: [] } } }) };
const one = (name: string, args: string[], path: string, extra: any = {}) =>
  probe({ name, args: [...S, ...args], script: steps([toolUse("Write", { file_path: path, content: "x\n" }), text("Finished.")]), check: [path], ...extra });
const cases = await Promise.all([
  one("3-t-trusted-project", DA, "b.txt", trusted(proj)),
  one("3-u-trusted-project-sources-empty", [...DA, "--setting-sources", ""], "b.txt", trusted(proj)),
  one("3-v-trusted-project-sources-local", [...DA, "--setting-sources", "local"], "b.txt", trusted(proj)),
  one("3-w-trusted-project-sources-user", [...DA, "--setting-sources", "user"], "b.txt", trusted(proj)),
  one("3-x-trusted-local", DA, "b.txt", trusted(local)),
  one("3-y-trusted-local-sources-local", [...DA, "--setting-sources", "local"], "b.txt", trusted(local)),
  one("3-z-trusted-local-sources-empty", [...DA, "--setting-sources", ""], "b.txt", trusted(local)),
  one("3-za-trusted-proj-slash-a", DA, "a.txt", trusted(projSlash)),
  one("3-zb-trusted-proj-slash-suba", DA, "sub/a.txt", trusted(projSlash)),
  one("3-zc-trusted-mcp", DA, "x.txt", trusted(mcp)),
  one("3-zd-trusted-mcp-strict", [...DA, "--strict-mcp-config"], "x.txt", trusted(mcp)),
  one("3-ze-trusted-mcp-sources-empty", [...DA, "--setting-sources", ""], "x.txt", trusted(mcp)),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  const init = c.lines.find((l: any) => l.subtype === "init");
  const meta = c.lines.filter((l: any) => l.type === "user").map((l: any) => JSON.stringify(l.tool_result_meta?.[0]?.permission_decision));
  console.log(c.name, "| exit", c.exit_code, "| files", JSON.stringify(c.files), "| ndenials", res?.permission_denials?.length, "| mcp", JSON.stringify(init?.mcp_servers), "|", meta.join(" "), "| stderr:", c.stderr.slice(0,300));
}
