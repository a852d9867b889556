/**
 * Waiting for an order with the live display attached: what `parallel-launch
 * --wait` and `demo` do after their launch (progress on stderr).
 */
import type { Store } from "../store/open.js";
import { waitForOrder, type WaitInput, type WaitSummary } from "../runtime/wait-order.js";
import type { Supervisor } from "../runtime/supervisor.js";
import type { CliIO } from "./io.js";
import { LiveDisplay } from "./live-display.js";

export async function waitWithDisplay(
  store: Store,
  io: CliIO,
  input: Omit<WaitInput, "onChange" | "onTask">,
  display = true,
): Promise<WaitSummary> {
  const live = new LiveDisplay(io, input.order, io.isTTY && display);
  let last: Supervisor | null = null;
  const summary = await waitForOrder(store, {
    ...input,
    onChange: (s) => {
      last = s;
      if (display) live.update(s);
    },
    onTask: (e) => display && live.task(e),
  });
  live.finish(display ? last : null);
  return summary;
}
