import { cpuSeconds, memory } from "./proc-stats.ts";

export interface ProcessUsage {
  cpuSeconds: number;
  /** Largest VmRSS seen while metering, MB. */
  peakRssMb: number;
}

/**
 * Meters one process over a phase: CPU time used between start and stop, and its resident set
 * sampled every `intervalMs` (VmRSS, not VmHWM, so start-up peaks such as tokenizer tables do not
 * count as "under load").
 */
export function meterProcess(pid: number, intervalMs = 100): { stop(): ProcessUsage } {
  const cpuAtStart = cpuSeconds(pid);
  let peakRssMb = memory(pid).rssMb;
  const sample = () => {
    try {
      peakRssMb = Math.max(peakRssMb, memory(pid).rssMb);
    } catch {
      // The process exited mid-phase; the phase's own checks report that.
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { cpuSeconds: cpuSeconds(pid) - cpuAtStart, peakRssMb };
    },
  };
}
