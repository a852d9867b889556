/**
 * The one place that names aipm's error classes and maps them to exit codes.
 *
 * - `usage`      bad input: flags, files, validation, unknown project/order/task -> exit 2
 * - `failed`     the work failed: a task FAILED, a launch error, a timed-out wait -> exit 1
 *
 * Anything else thrown is a bug and exits 1 with its message (stack with AIPM_DEBUG=1).
 */
export type ErrorKind = "usage" | "failed";

export class AipmError extends Error {
  override readonly name = "AipmError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Extra lines (e.g. every validation problem), printed after the message. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export function usageError(message: string, details: readonly string[] = []): AipmError {
  return new AipmError("usage", message, details);
}

export function failedError(message: string): AipmError {
  return new AipmError("failed", message);
}

export function exitCodeFor(err: unknown): 1 | 2 {
  return err instanceof AipmError && err.kind === "usage" ? 2 : 1;
}

export const notFound = {
  project: (id: string) => usageError(`unknown project ${id} (import a plan that declares it first)`),
  order: (project: string, id: string) => usageError(`unknown order ${id} in project ${project}`),
  task: (id: string, project?: string) =>
    usageError(project ? `unknown task ${id} in project ${project}` : `unknown task ${id}`),
};
