import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { LoadDriver, LoadResult, LoadSpec } from "./load-driver.ts";

/** What the Lua `done` hook below prints: wrk's summary, latencies in microseconds. */
const WrkSummary = z.object({
  requests: z.number().int(),
  duration_us: z.number(),
  errors: z.object({ connect: z.number(), read: z.number(), write: z.number(), status: z.number(), timeout: z.number() }),
  latency_us: z.object({ p50: z.number(), p99: z.number(), mean: z.number(), max: z.number() }),
});

const MARKER = "TOLLGATE_BENCH_WRK ";

/** Lua long brackets take any text verbatim as long as it holds no `]==]`. */
function luaString(text: string): string {
  if (text.includes("]==]")) throw new Error("text cannot be embedded in the wrk script");
  return `[==[${text}]==]`;
}

function script(spec: LoadSpec): string {
  const headers = Object.entries({ "Content-Type": "application/json", ...spec.headers })
    // The spaces matter: `[[` would open a Lua long string.
    .map(([name, value]) => `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`)
    .join("\n");
  // wrk's Lua API (SCRIPTING in the wrk sources): summary.duration in microseconds,
  // errors.status counts answers with a status >= 400.
  return `wrk.method = "POST"
wrk.body = ${luaString(spec.body)}
${headers}
done = function(summary, latency, requests)
  io.write(string.format('${MARKER}{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%f,"p99":%f,"mean":%f,"max":%f}}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
`;
}

/**
 * Load with wrk (C, epoll, one thread): it costs far less CPU per request than a Node load
 * generator, which matters on a 2-core machine where the generator shares cores with the target.
 */
export function wrkDriver(scratchDir: string): LoadDriver {
  let phase = 0;
  return {
    tool: "wrk",
    async run(spec: LoadSpec, signal: AbortSignal): Promise<LoadResult> {
      const scriptPath = join(scratchDir, `wrk-${++phase}.lua`);
      writeFileSync(scriptPath, script(spec));
      const args = ["-t1", `-c${spec.connections}`, `-d${spec.durationSeconds}s`, "--timeout", "10s", "-s", scriptPath, spec.url];
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile("wrk", args, { maxBuffer: 1 << 20, signal }, (error, out, err) => {
          // wrk reports a broken script on stderr and then runs a default GET load anyway.
          if (error || err.trim() !== "") reject(new Error(`wrk failed: ${error?.message ?? "script error"}\n${err}`));
          else resolve(out);
        });
      });
      const line = stdout.split("\n").find((l) => l.startsWith(MARKER));
      if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
      const summary = WrkSummary.parse(JSON.parse(line.slice(MARKER.length)));
      const seconds = summary.duration_us / 1e6;
      const errorStatuses = summary.errors.status;
      const expectError = spec.expectStatus >= 400;
      return {
        tool: "wrk",
        requests: summary.requests,
        seconds,
        requestsPerSecond: summary.requests / seconds,
        latencyMs: { p50: summary.latency_us.p50 / 1000, p99: summary.latency_us.p99 / 1000, mean: summary.latency_us.mean / 1000, max: summary.latency_us.max / 1000 },
        unexpectedStatus: expectError ? summary.requests - errorStatuses : errorStatuses,
        socketErrors: summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      };
    },
  };
}
