import type { Percentiles } from "./percentiles.ts";
import { TARGET_LABELS, type ComparisonResults, type LoadFigures } from "./results.ts";

/**
 * The run's figures as Markdown tables: readable in a terminal and pasted as-is into
 * bench/README.md. Ratios are always to rows of the same run.
 */

const f = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));
const ratio = (a: number, b: number | undefined) => (b === undefined || b === 0 ? "–" : `${(a / b).toFixed(2)}x`);
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

export function formatReport(results: ComparisonResults): string {
  const out: string[] = [];
  const m = results.machine;
  const s = results.settings;
  out.push(
    `Machine: ${m.nproc} cores (${m.cpuModel}), Node ${m.node}; load: ${m.loadTool}, 1 thread, ${s.rounds} rounds x ${s.durationSeconds} s per target and connection count (after ${s.warmupSeconds} s warm-up); upstream delay ${s.upstreamDelayMs} ms; Portkey gateway ${m.portkeyGateway}; load average ${f(m.loadAverage.start)} at start, ${f(m.loadAverage.end)} at end.`,
  );

  for (const connections of s.connections) {
    const rows = results.load.filter((l) => l.connections === connections);
    const byTarget = (t: LoadFigures["target"]) => rows.find((r) => r.target === t);
    const direct = byTarget("direct");
    const portkey = byTarget("portkey");
    out.push(
      `\n**Load, ${connections} connection${connections === 1 ? "" : "s"}** (ratios to direct and to Portkey in this run)\n`,
      table(
        ["target", "req/s", "vs direct", "vs Portkey", "p50 ms", "p99 ms", "CPU s / 1k req", "CPU vs Portkey", "peak RSS MB", "bad status / socket errors"],
        rows.map((r) => [
          TARGET_LABELS[r.target],
          f(r.requestsPerSecond, 0),
          ratio(r.requestsPerSecond, direct?.requestsPerSecond),
          ratio(r.requestsPerSecond, portkey?.requestsPerSecond),
          f(r.p50Ms),
          f(r.p99Ms),
          f(r.cpuSecondsPer1000, 3),
          ratio(r.cpuSecondsPer1000, portkey?.cpuSecondsPer1000),
          f(r.peakRssMb, 0),
          `${r.unexpectedStatus} / ${r.socketErrors}`,
        ]),
      ),
    );
  }

  const direct = results.firstByte.find((x) => x.target === "direct");
  const pct = (p: Percentiles) => `${f(p.p50)} / ${f(p.p99)}`;
  out.push(
    "\n**Streaming: time to first body byte** (raw TCP client, one request at a time, alternating targets)\n",
    table(
      ["target", "n", "TTFB p50 / p99 ms", "p50 over direct", "whole stream p50 ms", "CPU s / 1k streams", "peak RSS MB"],
      [
        ...results.firstByte.map((x) => [
          x.target === "direct" ? "direct upstream" : x.target === "portkey" ? "Portkey pass-through" : "Tollgate paid stream",
          String(x.firstByteMs.n),
          pct(x.firstByteMs),
          direct === undefined ? "–" : `+${f(x.firstByteMs.p50 - direct.firstByteMs.p50)} ms`,
          f(x.totalMs.p50),
          f(x.cpuSecondsPer1000, 3),
          f(x.peakRssMb, 0),
        ]),
        ...results.firstByte
          .filter((x) => x.firstByteExcludingFacilitatorMs !== undefined)
          .map((x) => {
            const excl = x.firstByteExcludingFacilitatorMs as Percentiles;
            return ["Tollgate paid stream, excl. facilitator /verify", String(excl.n), pct(excl), direct === undefined ? "–" : `+${f(excl.p50 - direct.firstByteMs.p50)} ms`, "–", "–", "–"];
          }),
      ],
    ),
  );

  const portkeyOne = results.load.find((l) => l.target === "portkey" && l.connections === 1);
  out.push(
    "\n**Paid calls** (non-streaming, one at a time, each with its own pre-signed EIP-3009 authorization; direct upstream timed in the same loop)\n",
    table(
      ["facilitator", "n", "total p50 / p99 ms", "excl. facilitator + chain p50 / p99 ms", "direct p50 ms", "overhead excl. facilitator p50 ms", "Tollgate CPU s / 1k calls", "CPU vs Portkey (1 conn)", "peak RSS MB"],
      results.paid.map((p) => [
        p.variant === "in_process_facilitator" ? "in-process (devnet default)" : "separate process (Tollgate's own work only)",
        String(p.totalMs.n),
        pct(p.totalMs),
        pct(p.excludingFacilitatorMs),
        f(p.directMs.p50),
        f(p.overheadExcludingFacilitatorP50Ms),
        f(p.cpuSecondsPer1000, 3),
        ratio(p.cpuSecondsPer1000, portkeyOne?.cpuSecondsPer1000),
        f(p.peakRssMb, 0),
      ]),
    ),
  );

  const stageNames = [...new Set(results.paid.flatMap((p) => Object.keys(p.stagesMs)))];
  const streamStages = results.firstByte.find((x) => x.stagesMs !== undefined)?.stagesMs ?? {};
  out.push(
    "\n**Paid call stages** (Server-Timing, p50 / p99 ms)\n",
    table(
      ["stage", ...results.paid.map((p) => (p.variant === "in_process_facilitator" ? "in-process facilitator" : "separate facilitator")), "paid stream (to first byte)"],
      [...new Set([...stageNames, ...Object.keys(streamStages)])].map((stage) => [
        stage,
        ...results.paid.map((p) => {
          const st = p.stagesMs[stage];
          return st === undefined ? "–" : pct(st);
        }),
        streamStages[stage] === undefined ? "–" : pct(streamStages[stage]),
      ]),
    ),
  );

  out.push(
    "\n**Memory**\n",
    table(
      ["process", "peak RSS under load MB", "VmHWM at end MB"],
      results.memory.map((x) => [x.process, f(x.peakRssUnderLoadMb, 0), f(x.highWaterMarkMb, 0)]),
    ),
  );

  out.push(
    `\nDevnet at the end of the run: ${results.devnet.blocks} blocks, its clock ${f(results.devnet.aheadOfWallClockSeconds, 0)} s ahead of the wall clock (hardhat automine: at least 1 s per block).`,
  );
  out.push("\n**Targets**\n", table(["target", "measured", "limit", "result"], results.targets.map((t) => [t.name, t.measured, t.limit, t.pass ? "PASS" : "FAIL"])));
  return out.join("\n");
}
