import { probe, save } from "../probe.js";
import { steps, toolUse, text } from "../anthropic-server.js";
const S = ["-p", "--output-format", "stream-json", "--verbose"];
const DA = ["--permission-mode", "dontAsk"];
const files = { "package.json": JSON.stringify({ name: "p", version: "1.0.0", scripts: { test: "echo TESTS-RAN" } }), "x": "keep\n", "a.txt": "hello\n" };
const bash = (name: string, allowed: string | null, command: string) =>
  probe({ name, args: [...S, ...DA, ...(allowed === null ? [] : ["--allowedTools", allowed])], script: steps([toolUse("Bash", { command, description: "run" }), text("Finished.")]), files, check: ["x", "out.txt"] });
const tool = (name: string, allowed: string | null, t: string, input: any) =>
  probe({ name, args: [...S, ...DA, ...(allowed === null ? [] : ["--allowedTools", allowed])], script: steps([toolUse(t, input), text("Finished.")]), files });
const cases = await Promise.all([
  bash("4-a-npmtest-star-npmtest", "Bash(npm test *)", "npm test"),
  bash("4-b-npmtest-star-npmtest-args", "Bash(npm test *)", "npm test -- --grep foo"),
  bash("4-c-npmtest-star-rm", "Bash(npm test *)", "rm -rf x"),
  bash("4-d-npmtest-star-chain", "Bash(npm test *)", "npm test && rm x"),
  bash("4-e-colon-npmtest", "Bash(npm test:*)", "npm test"),
  bash("4-f-colon-npmtest-args", "Bash(npm test:*)", "npm test -- --grep foo"),
  bash("4-g-colon-chain", "Bash(npm test:*)", "npm test && rm x"),
  bash("4-h-echo-redirect", "Bash(echo *)", "echo hi > out.txt"),
  bash("4-i-echo-plain", "Bash(echo *)", "echo hi"),
  bash("4-j-norule-ls", null, "ls"),
  bash("4-k-norule-cat", null, "cat a.txt"),
  bash("4-l-norule-rm", null, "rm -rf x"),
  bash("4-m-npmtest-exact", "Bash(npm test)", "npm test"),
  bash("4-n-npmtest-exact-args", "Bash(npm test)", "npm test -- --grep foo"),
  bash("4-o-npmtest-star-semicolon", "Bash(npm test *)", "npm test; rm x"),
  bash("4-p-npmtest-star-pipe", "Bash(npm test *)", "npm test | tee out.txt"),
  bash("4-q-bash-bare", "Bash", "rm -rf x"),
  tool("4-r-norule-read", null, "Read", { file_path: "a.txt" }),
  tool("4-s-norule-glob", null, "Glob", { pattern: "*.txt" }),
  tool("4-t-norule-grep", null, "Grep", { pattern: "hello" }),
  tool("4-u-norule-ls", null, "LS", { path: "." }),
  tool("4-v-norule-todowrite", null, "TodoWrite", { todos: [{ content: "x", status: "pending", activeForm: "x" }] }),
  bash("4-w-norule-git-status", null, "git status"),
  bash("4-x-norule-echo-redirect", null, "echo hi > out.txt"),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  const pd = c.lines.filter((l: any) => l.subtype === "permission_denied").map((l: any) => l.decision_reason_type ?? "-");
  const u = c.lines.filter((l: any) => l.type === "user").map((l: any) => JSON.stringify({ r: String(l.content?.[0]?.tool_result).slice(0, 140), e: l.content?.[0]?.is_error, d: l.tool_result_meta?.[0]?.permission_decision, k: l.tool_result_meta?.[0]?.non_execution_kind }));
  console.log(c.name, "| exit", c.exit_code, "| files", JSON.stringify(c.files), "| ndenials", res?.permission_denials?.length, "| pd", pd.join(), "|", u.join(" "));
}
