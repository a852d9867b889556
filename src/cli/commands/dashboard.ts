/** `aipm dashboard [--port 8088] [--host 127.0.0.1]`: the live web dashboard, until interrupted. */
import type { Argv } from "yargs";
import { startDashboard } from "../../dashboard/server.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";

export function registerDashboard(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "dashboard",
    "serve the live web dashboard (loopback only unless AIPM_DASHBOARD_TOKEN is set)",
    (b) =>
      b
        .option("port", { type: "number", default: 8088, describe: "port to listen on (0: any free port)" })
        .option("host", { type: "string", default: "127.0.0.1", describe: "address to listen on" }),
    async (args) => {
      await withStore(io, args, async (store) => {
        const d = await startDashboard({ store, host: args.host, port: args.port, env: io.env });
        emit(io, args, { url: d.url }, () => `aipm dashboard: ${d.url}  (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => resolve());
        });
        await d.close();
      }, { create: true });
    },
  );
}
