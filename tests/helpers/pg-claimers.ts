/** Several claiming processes (tests/pg/claimer.ts) started at once on one PostgreSQL database. */
import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/** `n` processes claim every QUEUED job of `jobs` at `url`, starting together; what each claimed and in how long. */
export async function claimAtOnce(url: string, n: number): Promise<Array<{ claimed: number; ms: number }>> {
  const procs = Array.from({ length: n }, (_, i) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "tests/pg/claimer.ts"), url, `p${i}`], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    return { child, out: () => out, exited };
  });
  const end = Date.now() + 30_000;
  while (!procs.every((p) => p.out().includes("ready\n"))) {
    if (Date.now() > end) throw new Error("the claiming processes did not start in 30 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const p of procs) p.child.stdin.write("go\n");
  const codes = await Promise.all(procs.map((p) => p.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`a claiming process failed (exit codes ${codes.join(", ")})`);
  return procs.map((p) => JSON.parse(p.out().split("\n")[1]!) as { claimed: number; ms: number });
}
