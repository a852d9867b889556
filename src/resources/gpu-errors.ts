/**
 * Recognising a GPU failure in a task's output. Two kinds:
 *
 * - errors (CUDA errors, a device out of memory, no CUDA-capable device, a
 *   driver that does not fit, cuBLAS/cuDNN/NCCL errors, device-side asserts,
 *   a GPU fallen off the bus): the attempt fails at once as `gpu_error`,
 *   whatever its exit code and its attempts left — the same broken device
 *   would fail a retry, and a job that printed one did not really succeed;
 * - fallback warnings (a framework that found no NVIDIA driver, could not
 *   load libcuda/libcudart, failed cuInit, and goes on on the CPU): they make
 *   a failed attempt `gpu_error` (no retry), and a successful one too on a
 *   machine where aipm saw a GPU — there, a quiet fallback to the CPU is not
 *   a success. On a machine without a GPU they are what a CPU-only run of a
 *   GPU-capable program prints (`torch.cuda.is_available()`), and are left alone.
 *
 * Only plain output lines are read: an agent's stream-json (which quotes the
 * files and command outputs it looks at) is left out.
 */
export interface GpuFinding {
  line: string;
  /** An error, not a fallback warning. */
  hard: boolean;
}

const QUICK = /cuda|gpu|nvidia|cublas|cudnn|nccl|device-side/i;

const ERRORS: RegExp[] = [
  /CUDA (?:error|out of memory|driver version is insufficient)/i,
  /OutOfMemoryError: CUDA/,
  /no CUDA-capable device is detected/i,
  /\bcudaError[A-Z]\w+/,
  /CUBLAS_STATUS_(?!SUCCESS)[A-Z_]+/,
  /CUDNN_STATUS_(?!SUCCESS)[A-Z_]+/,
  /NCCL (?:error|WARN .*failed)/i,
  /device-side assert triggered/i,
  /NVIDIA-SMI has failed/i,
  /GPU (?:is lost|has fallen off the bus)|\bXid \d+/,
  /(?:GPU|device) out of memory|out of memory on (?:GPU|device)/i,
];

const FALLBACKS: RegExp[] = [
  /CUDA initialization: Found no NVIDIA driver/i,
  /Found no NVIDIA driver/i,
  /failed call to cuInit/i,
  /could not load dynamic library 'libcud/i,
];

/** What a line shows about the GPU, or null (the line cut to 200 characters). */
export function findGpuError(line: string): GpuFinding | null {
  if (!QUICK.test(line)) return null;
  // An agent's stream-json event (its `type` anywhere in the line) is not the program's own output.
  if (line.trimStart().startsWith("{") && line.includes('"type":')) return null;
  for (const p of ERRORS) if (p.test(line)) return { line: line.trim().slice(0, 200), hard: true };
  for (const p of FALLBACKS) if (p.test(line)) return { line: line.trim().slice(0, 200), hard: false };
  return null;
}

/** The first error in `text`, else its first fallback warning, else null. */
export function findGpuErrorIn(text: string): GpuFinding | null {
  let soft: GpuFinding | null = null;
  for (const line of text.split("\n")) {
    const hit = findGpuError(line);
    if (hit?.hard) return hit;
    soft ??= hit;
  }
  return soft;
}

/** Keeps the first error, else the first fallback warning. */
export function worse(a: GpuFinding | null, b: GpuFinding | null): GpuFinding | null {
  if (!a) return b;
  if (!b || a.hard) return a;
  return b.hard ? b : a;
}
