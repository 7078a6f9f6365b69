import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Resource use of another process, read from Linux procfs (proc(5)): CPU time from
 * /proc/<pid>/stat and memory from /proc/<pid>/status. Reading procfs costs the measured process
 * nothing, unlike asking it over HTTP.
 */

/** Clock ticks per second for utime/stime (sysconf(_SC_CLK_TCK)); 100 on every Linux we run. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds the process has used so far (its threads included, children not). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) is parenthesised and may hold spaces; fields after it are space-separated,
  // starting with field 3 (state): utime is field 14, stime field 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read CPU time of pid ${pid}`);
  return (utime + stime) / CLOCK_TICKS;
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** High-water mark of the resident set since the process started, MB. */
  hwmMb: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (match?.[1] === undefined) throw new Error(`no ${field} for pid ${pid}`);
    return Number(match[1]);
  };
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}
