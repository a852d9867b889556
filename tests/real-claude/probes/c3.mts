import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { probe, save } from "../probe.js";
import { steps, toolUse, text } from "../anthropic-server.js";
import { newHome } from "../run-claude.js";
const S = ["-p", "--output-format", "stream-json", "--verbose"];
const W = (p: string) => ({ file_path: p, content: "x\n" });
const DA = ["--permission-mode", "dontAsk"];
const one = (name: string, args: string[], path: string, extra: any = {}) =>
  probe({ name, args: [...S, ...args], script: steps([toolUse("Write", W(path)), text("Finished.")]), check: [path], ...extra });
const settingsFile = (obj: any) => { const d = mkdtempSync("/tmp/probe/elsewhere/s-"); const f = d + "/settings.json"; writeFileSync(f, JSON.stringify(obj)); return f; };
const sA = settingsFile({ permissions: { allow: ["Read", "Edit(a.txt)"], defaultMode: "dontAsk" } });
const sSlash = settingsFile({ permissions: { allow: ["Edit(/a.txt)"], defaultMode: "dontAsk" } });
const sDeny = settingsFile({ permissions: { allow: ["Edit(**)"], deny: ["Edit(secret.txt)"], defaultMode: "dontAsk" } });
const projPermissive = { ".claude/settings.json": JSON.stringify({ permissions: { allow: ["Edit(**)"] } }) };
const userHome = () => { const h = newHome(); mkdirSync(h + "/.claude", { recursive: true }); writeFileSync(h + "/.claude/settings.json", JSON.stringify({ permissions: { allow: ["Edit(**)"] } })); return h; };
const mcp = { ".mcp.json": JSON.stringify({ mcpServers: { projsrv: { command: "/bin/false", args: [] } } }) };
const mcpEnabled = { ...mcp, ".claude/settings.json": JSON.stringify({ enableAllProjectMcpServers: true }) };
const outside = mkdtempSync("/tmp/probe-outside-");
const cases = await Promise.all([
  one("3-a-settings-a", ["--settings", sA], "a.txt"),
  one("3-b-settings-subb", ["--settings", sA], "sub/b.txt"),
  one("3-c-settings-suba", ["--settings", sA], "sub/a.txt"),
  one("3-d-settings-slash-a", ["--settings", sSlash], "a.txt"),
  one("3-e-settings-deny", ["--settings", sDeny], "secret.txt"),
  one("3-f-settings-deny-other", ["--settings", sDeny], "other.txt"),
  one("3-g-settings-inline-json", ["--settings", JSON.stringify({ permissions: { allow: ["Edit(a.txt)"], defaultMode: "dontAsk" } })], "a.txt"),
  one("3-h-project-permissive", [...DA], "b.txt", { files: projPermissive }),
  one("3-i-project-permissive-sources-empty", [...DA, "--setting-sources", ""], "b.txt", { files: projPermissive }),
  one("3-j-project-permissive-sources-local", [...DA, "--setting-sources", "local"], "b.txt", { files: projPermissive }),
  one("3-k-user-permissive", [...DA], "b.txt", { home: userHome() }),
  one("3-l-user-permissive-sources-empty", [...DA, "--setting-sources", ""], "b.txt", { home: userHome() }),
  one("3-m-user-permissive-sources-project", [...DA, "--setting-sources", "project"], "b.txt", { home: userHome() }),
  one("3-n-mcp", [...DA], "x.txt", { files: mcp }),
  one("3-o-mcp-strict", [...DA, "--strict-mcp-config"], "x.txt", { files: mcp }),
  one("3-p-mcp-enabled", [...DA], "x.txt", { files: mcpEnabled }),
  one("3-q-mcp-enabled-strict", [...DA, "--strict-mcp-config"], "x.txt", { files: mcpEnabled }),
  one("3-r-flags-disallowed", [...DA, "--allowedTools", "Edit", "--disallowedTools", "Edit(secret.txt)"], "secret.txt"),
  one("3-s-settings-and-sources-empty", ["--settings", sA, "--setting-sources", ""], "a.txt", { files: projPermissive }),
  one("2-r-dot-src-a-deep", [...DA, "--allowedTools", "Edit(./src/a.txt)"], "x/src/a.txt"),
  one("2-s-src-a-deep", [...DA, "--allowedTools", "Edit(src/a.txt)"], "x/src/a.txt"),
  one("2-t-src-a", [...DA, "--allowedTools", "Edit(src/a.txt)"], "src/a.txt"),
  one("2-u-a-outside-cwd", [...DA, "--allowedTools", "Edit(a.txt)"], outside + "/a.txt"),
  one("2-v-dotslash-outside", [...DA, "--allowedTools", "Edit(./a.txt)"], outside + "/a.txt"),
  one("2-w-slash-deep-sub", [...DA, "--allowedTools", "Edit(/sub/a.txt)"], "sub/a.txt"),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  const init = c.lines.find((l: any) => l.subtype === "init");
  const denied = c.lines.filter((l: any) => l.subtype === "permission_denied").map((l: any) => l.decision_reason_type ?? "-");
  const meta = c.lines.filter((l: any) => l.type === "user").map((l: any) => JSON.stringify(l.tool_result_meta));
  console.log(c.name, "| exit", c.exit_code, "| files", JSON.stringify(c.files), "| ndenials", res?.permission_denials?.length, "| pd", denied.join(), "| mode", init?.permissionMode, "| mcp", JSON.stringify(init?.mcp_servers), "|", meta.join(" "), c.stderr.slice(0,300));
}
