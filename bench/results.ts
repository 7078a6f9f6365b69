import type { DevnetClock } from "./devnet-clock.ts";
import type { Percentiles } from "./percentiles.ts";

/** The shape of bench/results/latest.json: everything one compare.ts run measured. */

export type LoadTarget = "direct" | "portkey" | "tollgate_402";

export const TARGET_LABELS: Record<LoadTarget, string> = {
  direct: "direct upstream",
  portkey: "Portkey pass-through",
  tollgate_402: "Tollgate 402 path",
};

export interface LoadRound {
  round: number;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** One target at one connection count, over all rounds. */
export interface LoadFigures {
  target: LoadTarget;
  connections: number;
  requests: number;
  /** Total requests over total seconds of all rounds. */
  requestsPerSecond: number;
  /** Mean of the rounds' percentiles (each round is one wrk phase). */
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds of the target process per 1,000 requests (= CPU ms per request). */
  cpuSecondsPer1000: number;
  peakRssMb: number;
  unexpectedStatus: number;
  socketErrors: number;
  rounds: LoadRound[];
}

export interface FirstByteFigures {
  target: "direct" | "portkey" | "tollgate_paid_stream";
  firstByteMs: Percentiles;
  totalMs: Percentiles;
  /** Tollgate only: first byte minus its facilitator /verify stage, per sample. */
  firstByteExcludingFacilitatorMs?: Percentiles;
  stagesMs?: Record<string, Percentiles>;
  /** CPU seconds of the target process per 1,000 streams (Tollgate: includes its in-process facilitator). */
  cpuSecondsPer1000: number;
  peakRssMb: number;
}

export interface PaidFigures {
  variant: "in_process_facilitator" | "remote_facilitator";
  totalMs: Percentiles;
  /** The direct upstream, timed between paid calls in the same loop. */
  directMs: Percentiles;
  stagesMs: Record<string, Percentiles>;
  /** Per call: total minus facilitator_verify minus settle. */
  excludingFacilitatorMs: Percentiles;
  /** excludingFacilitatorMs.p50 - directMs.p50 */
  overheadExcludingFacilitatorP50Ms: number;
  cpuSecondsPer1000: number;
  peakRssMb: number;
}

export interface ProcessMemory {
  process: string;
  peakRssUnderLoadMb: number;
  /** VmHWM at the end of the run: includes start-up peaks. */
  highWaterMarkMb: number;
}

export interface TargetCheck {
  name: string;
  measured: string;
  limit: string;
  pass: boolean;
}

export interface ComparisonResults {
  date: string;
  machine: {
    nproc: number;
    cpuModel: string;
    node: string;
    loadTool: "wrk" | "autocannon";
    portkeyGateway: string;
    /** 1-minute load average at the start and end of the run: other work on the machine skews absolute figures. */
    loadAverage: { start: number; end: number };
  };
  settings: { durationSeconds: number; warmupSeconds: number; rounds: number; connections: number[]; paidCalls: number; streamSamples: number; upstreamDelayMs: number };
  load: LoadFigures[];
  firstByte: FirstByteFigures[];
  paid: PaidFigures[];
  memory: ProcessMemory[];
  devnet: DevnetClock;
  targets: TargetCheck[];
}
