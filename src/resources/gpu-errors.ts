/**
 * Recognising a GPU failure in a task's output: a CUDA error, a device out
 * of memory, no CUDA-capable device, a driver that does not fit, a library
 * (cuBLAS, cuDNN, NCCL) error — and the warning of a framework falling back
 * to the CPU because it found no GPU. Such an attempt fails at once as
 * `gpu_error`, whatever its exit code and its attempts left: a GPU job that
 * quietly ran on the CPU, or that will hit the same broken device again, is
 * not a success nor worth a retry.
 *
 * Only plain output lines are read: an agent's stream-json (which quotes the
 * files and command outputs it looks at) is left out.
 */
const QUICK = /cuda|gpu|nvidia|cublas|cudnn|nccl|device-side/i;

const PATTERNS: RegExp[] = [
  /CUDA (?:error|out of memory|driver version is insufficient|initialization)/i,
  /OutOfMemoryError: CUDA/,
  /no CUDA-capable device is detected/i,
  /cudaError\w+/,
  /CUBLAS_STATUS_(?!SUCCESS)\w+/,
  /CUDNN_STATUS_(?!SUCCESS)\w+/,
  /NCCL (?:error|WARN .*failed)/i,
  /device-side assert triggered/i,
  /Found no NVIDIA driver/i,
  /NVIDIA-SMI has failed/i,
  /GPU (?:is lost|has fallen off the bus)|Xid \d+/,
  /(?:GPU|device) out of memory|out of memory on (?:GPU|device)/i,
  /(?:failed call to cuInit|could not load dynamic library 'libcuda)/i,
];

/** The first line of `text` that shows a GPU failure (cut to 200 characters), or null. */
export function findGpuError(line: string): string | null {
  if (!QUICK.test(line)) return null;
  if (line.trimStart().startsWith('{"type"')) return null;
  for (const p of PATTERNS) if (p.test(line)) return line.trim().slice(0, 200);
  return null;
}

export function findGpuErrorIn(text: string): string | null {
  for (const line of text.split("\n")) {
    const hit = findGpuError(line);
    if (hit) return hit;
  }
  return null;
}
