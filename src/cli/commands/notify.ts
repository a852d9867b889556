/** `aipm notify test`: a test message through every configured notifier, with each result. */
import type { Argv } from "yargs";
import { usageError } from "../../errors.js";
import { notifySettings } from "../../notify/notify-config.js";
import { testNotification } from "../../notify/notification.js";
import { deliver } from "../../notify/send.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";

export function registerNotify(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command("notify <action>", "notifications: `notify test` sends a test message through every configured notifier", (b) =>
    b
      .positional("action", { type: "string", choices: ["test"], demandOption: true })
      .example("AIPM_WEBHOOK_URL=https://example.com/hook aipm notify test", "check that every configured notifier delivers"),
    async (args) => {
      const settings = notifySettings(io.env);
      if (settings.notifiers.length === 0) {
        throw usageError("no notifier configured: set AIPM_PUSHOVER_TOKEN and AIPM_PUSHOVER_USER, AIPM_WEBHOOK_URL or AIPM_NOTIFY_CMD");
      }
      const n = testNotification(Date.now());
      const results = await Promise.all(
        settings.notifiers.map(async (to) => ({ notifier: to.name, ...(await deliver(to, n, settings)) })),
      );
      emit(io, args, { results }, () =>
        `${results
          .map((r) => `${r.notifier}: ${r.ok ? "sent" : `FAILED after ${r.attempts} attempt(s): ${r.error ?? "?"}`}${r.ok && r.status ? ` (HTTP ${r.status})` : ""}`)
          .join("\n")}\n`,
      );
      io.exitCode = results.every((r) => r.ok) ? 0 : 1;
    },
  );
}
