/**
 * Worker-count scaling by resource pressure (pure, no I/O).
 *
 *   over = max(cpu% - maxCpu, memory% - maxMemory)   (a null percent drops its term)
 *   over < 0        -> 100% of maxWorkers
 *   0 <= over < 5   -> 75%
 *   5 <= over < 10  -> 50%
 *   over >= 10      -> 25%
 *   effectiveWorkers = max(1, floor(maxWorkers * share))
 *
 * With autoScaling off the share is always 1 (effective = maxWorkers), but
 * `over` and `healthy` are still reported from whatever was measured.
 */

export interface ScalingInput {
  maxWorkers: number;
  maxCpu: number;
  maxMemory: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  autoScaling: boolean;
}

export interface ScalingDecision {
  effectiveWorkers: number;
  share: 1 | 0.75 | 0.5 | 0.25;
  over: number | null;
  healthy: boolean;
}

export function shareForOver(over: number): 1 | 0.75 | 0.5 | 0.25 {
  if (over < 0) return 1;
  if (over < 5) return 0.75;
  if (over < 10) return 0.5;
  return 0.25;
}

export function scaleWorkers(input: ScalingInput): ScalingDecision {
  const terms: number[] = [];
  if (input.cpuPercent !== null) terms.push(input.cpuPercent - input.maxCpu);
  if (input.memoryPercent !== null) terms.push(input.memoryPercent - input.maxMemory);
  const over = terms.length > 0 ? Math.max(...terms) : null;

  const healthy = over === null || over < 0;
  const share = input.autoScaling && over !== null ? shareForOver(over) : 1;
  const effectiveWorkers =
    share === 1 ? input.maxWorkers : Math.max(1, Math.floor(input.maxWorkers * share));
  return { effectiveWorkers, share, over, healthy };
}
