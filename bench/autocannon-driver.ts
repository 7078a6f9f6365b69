import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { z } from "zod";
import type { LoadDriver, LoadResult, LoadSpec } from "./load-driver.ts";

/** The fields of `autocannon --json` we use (latency in milliseconds, duration in seconds). */
const AutocannonJson = z.object({
  duration: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  "2xx": z.number(),
  "3xx": z.number(),
  requests: z.object({ total: z.number() }),
  latency: z.object({ p50: z.number(), p99: z.number(), mean: z.number(), max: z.number() }),
});

/**
 * Fallback load generator when wrk is not installed: autocannon's CLI in a child process (so it
 * does not share the harness's event loop). It spends more CPU per request than wrk, so on a
 * 2-core machine its requests/s are lower, and it reports latency in whole milliseconds.
 */
export function autocannonDriver(cliPath: string): LoadDriver {
  if (!existsSync(cliPath)) throw new Error(`autocannon is not installed at ${cliPath}: run npm --prefix bench/peers ci`);
  return {
    tool: "autocannon",
    async run(spec: LoadSpec, signal: AbortSignal): Promise<LoadResult> {
      const headers = Object.entries({ "content-type": "application/json", ...spec.headers }).flatMap(([name, value]) => ["-H", `${name}=${value}`]);
      const args = [cliPath, "-c", String(spec.connections), "-d", String(spec.durationSeconds), "-m", "POST", ...headers, "-b", spec.body, "--json", "-n", spec.url];
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, args, { maxBuffer: 8 << 20, signal }, (error, out, err) => {
          if (error) reject(new Error(`autocannon failed: ${error.message}\n${err}`));
          else resolve(out);
        });
      });
      const result = AutocannonJson.parse(JSON.parse(stdout));
      const ok = result["2xx"] + result["3xx"];
      const requests = result.requests.total;
      return {
        tool: "autocannon",
        requests,
        seconds: result.duration,
        requestsPerSecond: requests / result.duration,
        latencyMs: result.latency,
        unexpectedStatus: spec.expectStatus >= 400 ? ok : requests - ok,
        socketErrors: result.errors + result.timeouts,
      };
    },
  };
}
