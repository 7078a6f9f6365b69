import type { ComparisonResults, LoadFigures, TargetCheck } from "./results.ts";

/** The issue's limits ("Benchmarks: Tollgate side by side with the Portkey gateway"). */
export const LIMITS = {
  streamFirstByteOverDirectMs: 2,
  challengeOverPortkeyRps: 3,
  paidOverheadP50Ms: 5,
  peakRssMb: 150,
} as const;

const ms = (x: number) => `${x.toFixed(2)} ms`;

/**
 * Pass/fail of each target from one run's figures. Every comparison is within the run: the
 * machine is shared and noisy, so only same-run ratios mean anything.
 */
export function evaluateTargets(results: Omit<ComparisonResults, "targets">): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const load = (target: LoadFigures["target"], connections: number) => results.load.find((l) => l.target === target && l.connections === connections);
  const stream = (target: string) => results.firstByte.find((f) => f.target === target);

  const direct = stream("direct");
  const tollgate = stream("tollgate_paid_stream");
  const portkey = stream("portkey");
  if (direct !== undefined && tollgate !== undefined) {
    const limit = direct.firstByteMs.p50 + LIMITS.streamFirstByteOverDirectMs;
    checks.push({
      name: "streaming TTFB p50, Tollgate paid stream <= direct + 2 ms",
      measured: `${ms(tollgate.firstByteMs.p50)} (direct ${ms(direct.firstByteMs.p50)}, +${ms(tollgate.firstByteMs.p50 - direct.firstByteMs.p50)}${portkey === undefined ? "" : `; Portkey +${ms(portkey.firstByteMs.p50 - direct.firstByteMs.p50)}`})`,
      limit: `<= ${ms(limit)}`,
      pass: tollgate.firstByteMs.p50 <= limit,
    });
    const excluding = tollgate.firstByteExcludingFacilitatorMs;
    if (excluding !== undefined) {
      checks.push({
        name: "  same, excluding the facilitator /verify round trip",
        measured: `${ms(excluding.p50)} (+${ms(excluding.p50 - direct.firstByteMs.p50)})`,
        limit: `<= ${ms(limit)}`,
        pass: excluding.p50 <= limit,
      });
    }
  }

  for (const connections of results.settings.connections) {
    const challenge = load("tollgate_402", connections);
    const passThrough = load("portkey", connections);
    if (challenge === undefined || passThrough === undefined) continue;
    const ratio = challenge.requestsPerSecond / passThrough.requestsPerSecond;
    checks.push({
      name: `402 path req/s >= 3x Portkey pass-through (${connections} conn)`,
      measured: `${ratio.toFixed(2)}x (${challenge.requestsPerSecond.toFixed(0)} vs ${passThrough.requestsPerSecond.toFixed(0)} req/s)`,
      limit: `>= ${LIMITS.challengeOverPortkeyRps}x`,
      pass: ratio >= LIMITS.challengeOverPortkeyRps,
    });
  }

  const remote = results.paid.find((p) => p.variant === "remote_facilitator");
  const inProcess = results.paid.find((p) => p.variant === "in_process_facilitator");
  // Paid calls run one at a time, so the like-for-like Portkey figure is its 1-connection phase.
  const portkeyOne = load("portkey", 1);
  if (remote !== undefined && portkeyOne !== undefined) {
    checks.push({
      name: "paid path CPU/request excl. facilitator <= Portkey pass-through (1 conn)",
      measured: `${remote.cpuSecondsPer1000.toFixed(2)} ms vs ${portkeyOne.cpuSecondsPer1000.toFixed(2)} ms`,
      limit: `<= ${portkeyOne.cpuSecondsPer1000.toFixed(2)} ms`,
      pass: remote.cpuSecondsPer1000 <= portkeyOne.cpuSecondsPer1000,
    });
  }
  if (inProcess !== undefined) {
    checks.push({
      name: "paid path p50 overhead excl. facilitator and chain <= 5 ms",
      measured: `${ms(inProcess.overheadExcludingFacilitatorP50Ms)} (p50 ${ms(inProcess.excludingFacilitatorMs.p50)} - direct ${ms(inProcess.directMs.p50)})`,
      limit: `<= ${ms(LIMITS.paidOverheadP50Ms)}`,
      pass: inProcess.overheadExcludingFacilitatorP50Ms <= LIMITS.paidOverheadP50Ms,
    });
  }

  for (const memory of results.memory.filter((m) => m.process.startsWith("tollgate"))) {
    checks.push({
      name: `peak RSS under load, ${memory.process} <= 150 MB`,
      measured: `${memory.peakRssUnderLoadMb.toFixed(0)} MB (VmHWM ${memory.highWaterMarkMb.toFixed(0)} MB; Portkey ${results.memory.find((m) => m.process === "portkey")?.peakRssUnderLoadMb.toFixed(0) ?? "?"} MB)`,
      limit: `<= ${LIMITS.peakRssMb} MB`,
      pass: memory.peakRssUnderLoadMb <= LIMITS.peakRssMb,
    });
  }
  return checks;
}
