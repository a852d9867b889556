import { probe, save } from "../probe.js";
import { steps, toolUse, text } from "../anthropic-server.js";
const S = ["-p", "--output-format", "stream-json", "--verbose"];
const one = (name: string, args: string[], tool: string, input: any, check: string[], files?: Record<string,string>) =>
  probe({ name, args: [...S, ...args], script: steps([toolUse(tool, input), text("Finished.")]), check, files });
const W = (p: string) => ({ file_path: p, content: "x\n" });
const E = (p: string) => ({ file_path: p, old_string: "old", new_string: "new" });
const DA = ["--permission-mode", "dontAsk"];
const cases = await Promise.all([
  one("1-noflag-write", [], "Write", W("a.txt"), ["a.txt"]),
  one("2-a-write-a", [...DA, "--allowedTools", "Read,Edit(a.txt)"], "Write", W("a.txt"), ["a.txt"]),
  one("2-b-write-sub-b", [...DA, "--allowedTools", "Read,Edit(a.txt)"], "Write", W("sub/b.txt"), ["sub/b.txt"]),
  one("2-c-write-sub-a", [...DA, "--allowedTools", "Read,Edit(a.txt)"], "Write", W("sub/a.txt"), ["sub/a.txt"]),
  one("2-d-dot-a-write-sub-a", [...DA, "--allowedTools", "Read,Edit(./a.txt)"], "Write", W("sub/a.txt"), ["sub/a.txt"]),
  one("2-e-dot-a-write-a", [...DA, "--allowedTools", "Read,Edit(./a.txt)"], "Write", W("a.txt"), ["a.txt"]),
  one("2-f-slash-a-write-sub-a", [...DA, "--allowedTools", "Read,Edit(/a.txt)"], "Write", W("sub/a.txt"), ["sub/a.txt"]),
  one("2-g-slash-a-write-a", [...DA, "--allowedTools", "Read,Edit(/a.txt)"], "Write", W("a.txt"), ["a.txt"]),
  one("2-h-src-starstar-deep", [...DA, "--allowedTools", "Edit(src/**)"], "Write", W("src/x/y.ts"), ["src/x/y.ts"]),
  one("2-i-src-dir-deep", [...DA, "--allowedTools", "Edit(src/)"], "Write", W("src/x/y.ts"), ["src/x/y.ts"]),
  one("2-j-src-dir-shallow", [...DA, "--allowedTools", "Edit(src/)"], "Write", W("src/y.ts"), ["src/y.ts"]),
  one("2-k-writerule-write-a", [...DA, "--allowedTools", "Write(a.txt)"], "Write", W("a.txt"), ["a.txt"]),
  one("2-l-writebare-write-a", [...DA, "--allowedTools", "Write"], "Write", W("a.txt"), ["a.txt"]),
  one("2-m-edit-existing", [...DA, "--allowedTools", "Read,Edit(a.txt)"], "Edit", E("a.txt"), ["a.txt"], { "a.txt": "old\n" }),
  one("2-n-abs-double-slash", [...DA, "--allowedTools", "Edit(//tmp/**)"], "Write", W("a.txt"), ["a.txt"]),
  one("2-o-src-star", [...DA, "--allowedTools", "Edit(src/*)"], "Write", W("src/x/y.ts"), ["src/x/y.ts"]),
  one("2-p-starstar-slash-a", [...DA, "--allowedTools", "Edit(**/a.txt)"], "Write", W("sub/a.txt"), ["sub/a.txt"]),
  one("2-q-abs-path-input", [...DA, "--allowedTools", "Edit(a.txt)"], "Write", W("ABS"), []),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  const tr = c.lines.filter((l: any) => l.type === "user").map((l: any) => JSON.stringify(l).slice(0, 400));
  console.log(c.name, "| exit", c.exit_code, "| files", JSON.stringify(c.files), "| denials", JSON.stringify(res?.permission_denials), "|", tr.join(" "));
}
