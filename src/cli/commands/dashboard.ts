/** `aipm dashboard [--port 8088] [--host 127.0.0.1]`: the live web dashboard, until interrupted. */
import type { Argv } from "yargs";
import { startDashboard } from "../../dashboard/server.js";
import { remoteBaseUrls } from "../../dashboard/remote-urls.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";

export function registerDashboard(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "dashboard",
    "serve the live web dashboard (loopback only unless AIPM_DASHBOARD_TOKEN is set)",
    (b) =>
      b
        .option("port", { type: "number", default: 8088, describe: "port to listen on (0: any free port)" })
        .option("host", { type: "string", default: "127.0.0.1", describe: "address to listen on" })
        .example("aipm dashboard", "serve http://127.0.0.1:8088/ on this machine")
        .example("AIPM_DASHBOARD_TOKEN=secret aipm dashboard --host 0.0.0.0", "reachable from a phone on your network (prints login links)"),
    async (args) => {
      await withStore(io, args, async (store) => {
        const d = await startDashboard({ store, host: args.host, port: args.port, env: io.env });
        // From another device: this machine's addresses, each with a one-time login link (the token is never shown).
        const port = Number(new URL(d.url).port);
        const remote = remoteBaseUrls(args.host, port).map((base) => {
          const login = d.login();
          return login ? new URL(login.slice(1), base).toString() : base;
        });
        emit(io, args, { url: d.url, ...(remote.length ? { remote } : {}) }, () =>
          `aipm dashboard: ${d.url}  (Ctrl-C to stop)\n${remote.map((u) => `  from another device: ${u}  (one-time login, 10 min)\n`).join("")}`,
        );
        await new Promise<void>((resolve) => {
          for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => resolve());
        });
        await d.close();
      }, { create: true });
    },
  );
}
