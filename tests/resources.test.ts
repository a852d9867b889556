import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createResourceMonitor, MACHINE, toResourcesJson, WINDOW_MS, type MachineSource, type ResourceSample } from "../src/resources/monitor.js";
import { scaleWorkers, shareForOver, type ScalingInput } from "../src/resources/scaling.js";

const base: ScalingInput = {
  maxWorkers: 8,
  maxCpu: 80,
  maxMemory: 80,
  cpuPercent: 0,
  memoryPercent: 0,
  autoScaling: true,
};

describe("shareForOver", () => {
  it.each([
    [-50, 1],
    [-0.1, 1],
    [0, 0.75],
    [4.9, 0.75],
    [5, 0.5],
    [9.9, 0.5],
    [10, 0.25],
    [50, 0.25],
  ] as const)("over=%d -> share %d", (over, share) => {
    expect(shareForOver(over)).toBe(share);
  });
});

describe("scaleWorkers", () => {
  // cpu-driven: memory well under its limit, cpu = maxCpu + over
  it.each([
    [-0.1, 1, 8, true],
    [0, 0.75, 6, false],
    [4.9, 0.75, 6, false],
    [5, 0.5, 4, false],
    [9.9, 0.5, 4, false],
    [10, 0.25, 2, false],
    [50, 0.25, 2, false],
  ] as const)("cpu-driven over=%d -> share %d, %d workers", (over, share, workers, healthy) => {
    const d = scaleWorkers({ ...base, maxCpu: 50, cpuPercent: 50 + over, memoryPercent: 10 });
    expect(d.over).toBeCloseTo(over, 9);
    expect(d.share).toBe(share);
    expect(d.effectiveWorkers).toBe(workers);
    expect(d.healthy).toBe(healthy);
  });

  // memory-driven: cpu well under its limit, memory = maxMemory + over
  it.each([
    [-0.1, 1, 8],
    [0, 0.75, 6],
    [4.9, 0.75, 6],
    [5, 0.5, 4],
    [9.9, 0.5, 4],
    [10, 0.25, 2],
    [50, 0.25, 2],
  ] as const)("memory-driven over=%d -> share %d, %d workers", (over, share, workers) => {
    const d = scaleWorkers({ ...base, maxMemory: 40, memoryPercent: 40 + over, cpuPercent: 5 });
    expect(d.over).toBeCloseTo(over, 9);
    expect(d.share).toBe(share);
    expect(d.effectiveWorkers).toBe(workers);
  });

  it("takes the larger of the cpu and memory excess", () => {
    // cpu over by 3, memory over by 7 -> memory wins
    const m = scaleWorkers({ ...base, cpuPercent: 83, memoryPercent: 87 });
    expect(m.over).toBe(7);
    expect(m.share).toBe(0.5);
    // cpu over by 12, memory over by 2 -> cpu wins
    const c = scaleWorkers({ ...base, cpuPercent: 92, memoryPercent: 82 });
    expect(c.over).toBe(12);
    expect(c.share).toBe(0.25);
    // both under: the less negative one
    const u = scaleWorkers({ ...base, cpuPercent: 30, memoryPercent: 70 });
    expect(u.over).toBe(-10);
    expect(u.share).toBe(1);
    expect(u.healthy).toBe(true);
  });

  it.each([
    [1, 25, 1], // floor(0.25) = 0 -> clamped to 1
    [1, 3, 1], // floor(0.75) = 0 -> 1
    [5, 3, 3], // floor(3.75)
    [8, 25, 2],
    [3, 25, 1], // floor(0.75) = 0 -> 1
    [7, 7, 3], // floor(3.5)
    [10, 3, 7], // floor(7.5)
  ] as const)("max(1, floor): maxWorkers=%d over=%d -> %d", (maxWorkers, over, workers) => {
    const d = scaleWorkers({ ...base, maxWorkers, cpuPercent: 80 + over, memoryPercent: 0 });
    expect(d.effectiveWorkers).toBe(workers);
  });

  it("auto-scaling off keeps maxWorkers but still reports over/healthy", () => {
    const d = scaleWorkers({ ...base, autoScaling: false, cpuPercent: 99, memoryPercent: 10 });
    expect(d.effectiveWorkers).toBe(8);
    expect(d.share).toBe(1);
    expect(d.over).toBe(19);
    expect(d.healthy).toBe(false);

    const ok = scaleWorkers({ ...base, autoScaling: false, cpuPercent: 10, memoryPercent: 10 });
    expect(ok.healthy).toBe(true);
    expect(ok.over).toBe(-70);
  });

  it("ignores a null percent; both null -> over null, share 1, healthy", () => {
    const cpuOnly = scaleWorkers({ ...base, cpuPercent: 86, memoryPercent: null });
    expect(cpuOnly.over).toBe(6);
    expect(cpuOnly.share).toBe(0.5);
    expect(cpuOnly.effectiveWorkers).toBe(4);

    const memOnly = scaleWorkers({ ...base, cpuPercent: null, memoryPercent: 91 });
    expect(memOnly.over).toBe(11);
    expect(memOnly.share).toBe(0.25);
    expect(memOnly.effectiveWorkers).toBe(2);

    // a null term must not be treated as 0% (which would give over = -80 here)
    const memUnder = scaleWorkers({ ...base, cpuPercent: null, memoryPercent: 75 });
    expect(memUnder.over).toBe(-5);

    const none = scaleWorkers({ ...base, cpuPercent: null, memoryPercent: null });
    expect(none).toEqual({ effectiveWorkers: 8, share: 1, over: null, healthy: true });
  });
});

describe("toResourcesJson", () => {
  const sample: ResourceSample = {
    cpuPercent: 12.5,
    memoryPercent: 41,
    memTotalBytes: 1000,
    memAvailableBytes: 590,
    takenAt: 1,
  };

  it("monitoring on: snake_case keys and the decision's health", () => {
    const healthy = scaleWorkers({ ...base, cpuPercent: 12.5, memoryPercent: 41 });
    expect(toResourcesJson(sample, healthy)).toEqual({
      monitoring: true,
      cpu_percent: 12.5,
      memory_percent: 41,
      healthy: true,
    });
    const hot = scaleWorkers({ ...base, maxCpu: 10, cpuPercent: 12.5, memoryPercent: 41 });
    expect(JSON.parse(JSON.stringify({ resources: toResourcesJson(sample, hot) }))).toEqual({
      resources: { monitoring: true, cpu_percent: 12.5, memory_percent: 41, healthy: false },
    });
  });

  it("monitoring off: nulls and healthy", () => {
    const d = scaleWorkers({ ...base, cpuPercent: null, memoryPercent: null });
    expect(toResourcesJson(null, d)).toEqual({
      monitoring: false,
      cpu_percent: null,
      memory_percent: null,
      healthy: true,
    });
  });
});

describe("createResourceMonitor (machine stubbed)", () => {
  /** CPU counters that advance by `busy` of `total` at each reading after the first. */
  function source(steps: Array<[busy: number, total: number]>, memory = { total: 1000, available: 590 }) {
    let busy = 0;
    let total = 0;
    const readAt: number[] = [];
    const src: MachineSource = {
      cpuTimes: () => {
        const step = readAt.length === 0 ? [0, 0] : (steps[readAt.length - 1] ?? [0, 100]);
        readAt.push(performance.now());
        busy += step[0]!;
        total += step[1]!;
        return { busy, total };
      },
      memory: async () => memory,
    };
    return { src, readAt };
  }

  it("the first sample measures a window of at least WINDOW_MS from the monitor's creation, later samples since the previous one", async () => {
    // busy/total per window: 12.34 %, then 55.56 %; available-based memory is 41 % (a `used` with cache would say more)
    const { src, readAt } = source([[1234, 10000], [5556, 10000]]);
    let t = 1_700_000_000_000;
    const monitor = createResourceMonitor({ now: () => t++, source: src });

    const first = await monitor.sample();
    expect(readAt).toHaveLength(2);
    expect(readAt[1]! - readAt[0]!).toBeGreaterThanOrEqual(WINDOW_MS - 1);
    expect(first).toEqual({
      cpuPercent: 12.3,
      memoryPercent: 41,
      memTotalBytes: 1000,
      memAvailableBytes: 590,
      takenAt: 1_700_000_000_000,
    });

    // Asked again at once: the figure is repeated, the counters are not read (no empty window).
    const again = await monitor.sample();
    expect(readAt).toHaveLength(2);
    expect(again.cpuPercent).toBe(12.3);

    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const second = await monitor.sample();
    expect(readAt).toHaveLength(3);
    expect(second.cpuPercent).toBe(55.6);
    expect(second.takenAt).toBe(1_700_000_000_002);
  });

  it("concurrent first samples share one window", async () => {
    const { src, readAt } = source([[20, 100]], { total: 2000, available: 1000 });
    const monitor = createResourceMonitor({ source: src });
    const [a, b] = await Promise.all([monitor.sample(), monitor.sample()]);
    expect(readAt).toHaveLength(2); // at creation + one for both samples
    expect(a.memoryPercent).toBe(50);
    expect(a.cpuPercent).toBe(20);
    expect(b.cpuPercent).toBe(20);
  });

  it("rounds to one decimal and clamps into [0, 100]", async () => {
    const { src } = source([[1042, 1000]], { total: 3, available: 2 }); // 104.2 %, 33.333..%
    const s = await createResourceMonitor({ source: src }).sample();
    expect(s.cpuPercent).toBe(100);
    expect(s.memoryPercent).toBe(33.3);
  });

  it("reads the machine's own counters (/proc/stat on Linux): busy within total", () => {
    const a = MACHINE.cpuTimes();
    expect(a.total).toBeGreaterThan(0);
    expect(a.busy).toBeGreaterThanOrEqual(0);
    expect(a.busy).toBeLessThanOrEqual(a.total);
  });
});

describe("createResourceMonitor (real machine)", () => {
  function procMemPercent(): number {
    const text = readFileSync("/proc/meminfo", "utf8");
    const field = (name: string): number => {
      const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(text);
      if (!m?.[1]) throw new Error(`no ${name} in /proc/meminfo`);
      return Number(m[1]);
    };
    const total = field("MemTotal");
    return ((total - field("MemAvailable")) / total) * 100;
  }

  const oneDecimal = (x: number) => expect(Math.round(x * 10) / 10).toBe(x);

  it("samples sane cpu and cache-excluding memory figures, twice", async () => {
    const before = Date.now();
    const monitor = createResourceMonitor();
    const s = await monitor.sample();
    const expectedMem = procMemPercent();

    expect(s.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(s.cpuPercent).toBeLessThanOrEqual(100);
    expect(s.memoryPercent).toBeGreaterThan(0);
    expect(s.memoryPercent).toBeLessThan(100);
    expect(Math.abs(s.memoryPercent - expectedMem)).toBeLessThanOrEqual(3);
    oneDecimal(s.cpuPercent);
    oneDecimal(s.memoryPercent);
    expect(s.memTotalBytes).toBeGreaterThan(0);
    expect(s.memAvailableBytes).toBeGreaterThan(0);
    expect(s.memAvailableBytes).toBeLessThan(s.memTotalBytes);
    expect(s.memoryPercent).toBeCloseTo(
      ((s.memTotalBytes - s.memAvailableBytes) / s.memTotalBytes) * 100,
      1,
    );
    expect(s.takenAt).toBeGreaterThanOrEqual(before);
    expect(s.takenAt).toBeLessThanOrEqual(Date.now());

    const s2 = await monitor.sample();
    expect(s2.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(s2.cpuPercent).toBeLessThanOrEqual(100);
    expect(s2.memoryPercent).toBeGreaterThan(0);
    expect(s2.memoryPercent).toBeLessThan(100);
    expect(Math.abs(s2.memoryPercent - procMemPercent())).toBeLessThanOrEqual(3);
    expect(s2.takenAt).toBeGreaterThanOrEqual(s.takenAt);
  });
});
