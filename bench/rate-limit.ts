/**
 * What the rate limiter costs (issue 15): CPU per request added by http/rate-limit.ts in front of
 * a per-call endpoint, with in-process buckets and with buckets in Redis. Target: under 0.05 ms.
 *
 * The limiter wraps a route that does nothing, exactly as createApp wraps the real ones, and each
 * variant runs the same requests one at a time in this process; `process.cpuUsage()` around a
 * variant, minus the same requests through the bare route, is the limiter's CPU (Redis's own CPU,
 * in its own process, is not the gateway's and is not counted; the client's encoding and parsing
 * of each command is). Variants alternate within the run (bare, memory, ..., bare, memory, ...),
 * `--rounds` times, and the median round is reported. Requests come from `--clients` addresses
 * in turn under limits no client reaches, so every take is the common path: allowed. Each variant
 * runs with 1 request in flight (a gateway serving one request at a time: every Redis round trip
 * is an event-loop turn of its own) and with `--in-flight` at once (a busy gateway: replies that
 * arrive together are read together).
 *
 *   npx tsx bench/rate-limit.ts [--requests 20000] [--rounds 5] [--clients 1000] [--in-flight 32] [--redis redis://127.0.0.1:6379]
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { clientAddressOf, type TrustedHop } from "../src/http/client-address.ts";
import type { DirectRoute } from "../src/http/direct-routes.ts";
import { limitRoutes, type RateLimits } from "../src/http/rate-limit.ts";
import { createLogger } from "../src/lib/logger.ts";
import { MemoryBuckets } from "../src/limits/memory-buckets.ts";
import { createRedisBuckets } from "../src/limits/redis-buckets.ts";
import type { BucketLimit, BucketStore } from "../src/limits/token-bucket.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    clients: { type: "string", default: "1000" },
    "in-flight": { type: "string", default: "32" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const inFlight = Number(values["in-flight"]);

const unpaid: BucketLimit = { policy: "unpaid", ratePerSecond: 1_000_000, burst: 1_000_000 };
const paid: BucketLimit = { policy: "paid", ratePerSecond: 1_000_000, burst: 1_000_000 };
const proxies: TrustedHop[] = [{ address: "10.0.0.0", prefix: 8, family: "ipv4" }];

/** The parts of a request and response the limiter reads and writes. */
function syntheticRequest(i: number, kind: "unpaid" | "paid" | "proxied"): { req: IncomingMessage; res: ServerResponse } {
  const client = `198.51.${Math.floor((i % clients) / 256)}.${i % 256}`;
  const headers: Record<string, string> = {};
  if (kind === "paid") headers["payment-signature"] = "present";
  if (kind === "proxied") headers["x-forwarded-for"] = `${client}, 10.1.2.3`;
  const req = { method: "POST", url: "/v1/chat/completions", headers, socket: { remoteAddress: kind === "proxied" ? "10.0.0.1" : client } };
  const res = { setHeader: () => res };
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse };
}

const payers = Array.from({ length: clients }, (_, i) => `0x${i.toString(16).padStart(40, "0")}` as const);

/** A route that does nothing, or, for a paid request, only admits its payer (the limiter's part of the paid lifecycle). */
const bare: DirectRoute = async (req, _res, { admitPayer }) => {
  if (admitPayer !== undefined) await admitPayer(payers[Number(req.socket.remoteAddress?.split(".")[3]) % clients] ?? "0x0000000000000000000000000000000000000000");
};

function limited(store: BucketStore, trusted: TrustedHop[] = []): DirectRoute {
  const limits: RateLimits = { unpaid, paid, store, clientAddress: clientAddressOf(trusted), now: () => performance.now() };
  const route = limitRoutes({ "/v1/chat/completions": bare }, limits, new Set())["/v1/chat/completions"];
  if (route === undefined) throw new Error("no route");
  return route;
}

async function cpuMsPerRequest(route: DirectRoute, kind: "unpaid" | "paid" | "proxied", concurrency: number): Promise<number> {
  const inputs = Array.from({ length: requests }, (_, i) => syntheticRequest(i, kind));
  let next = 0;
  const worker = async () => {
    for (let input = inputs[next++]; input !== undefined; input = inputs[next++]) await route(input.req, input.res, {});
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / requests;
}

const logger = createLogger({ level: "silent" });
const memory = new MemoryBuckets();
const redis = await createRedisBuckets({ url: values.redis, keyPrefix: `tollgate-bench:${randomUUID()}:`, fallback: new MemoryBuckets(), logger });

const variants: Array<{ name: string; route: DirectRoute; kind: "unpaid" | "paid" | "proxied"; baseline: string }> = [
  { name: "bare route, unpaid", route: bare, kind: "unpaid", baseline: "" },
  { name: "in-process, unpaid (address bucket)", route: limited(memory), kind: "unpaid", baseline: "bare route, unpaid" },
  { name: "in-process, unpaid behind TRUST_PROXY", route: limited(memory, proxies), kind: "proxied", baseline: "bare route, unpaid" },
  { name: "bare route, paid (admits payer, no limit)", route: bare, kind: "paid", baseline: "" },
  { name: "in-process, paid (wallet bucket)", route: limited(memory), kind: "paid", baseline: "bare route, paid (admits payer, no limit)" },
  { name: "Redis, unpaid", route: limited(redis), kind: "unpaid", baseline: "bare route, unpaid" },
  { name: "Redis, paid (wallet bucket)", route: limited(redis), kind: "paid", baseline: "bare route, paid (admits payer, no limit)" },
];

// Warm-up: JIT, zod's first parse, the Redis script cached by EVALSHA.
for (const v of variants) for (let i = 0; i < 2_000; i += 1) { const { req, res } = syntheticRequest(i, v.kind); await v.route(req, res, {}); }

const levels = [1, inFlight];
const samples = new Map<string, number[]>(variants.flatMap((v) => levels.map((c) => [`${v.name}@${c}`, []] as [string, number[]])));
for (let round = 0; round < rounds; round += 1) {
  for (const c of levels) for (const v of variants) samples.get(`${v.name}@${c}`)?.push(await cpuMsPerRequest(v.route, v.kind, c));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const cpuOf = (name: string, c: number) => median(samples.get(`${name}@${c}`) ?? []) * 1000;

console.log(`rate limiter CPU per request: ${requests} requests x ${rounds} rounds, ${clients} clients, median round (Node ${process.version})\n`);
console.log(`| variant | µs CPU/request, 1 in flight | added | µs CPU/request, ${inFlight} in flight | added |`);
console.log("|---|---|---|---|---|");
for (const v of variants) {
  const cells = levels.map((c) => {
    const cpu = cpuOf(v.name, c);
    return `${cpu.toFixed(1)} | ${v.baseline === "" ? "-" : (cpu - cpuOf(v.baseline, c)).toFixed(1)}`;
  });
  console.log(`| ${v.name} | ${cells.join(" | ")} |`);
}
console.log(`\nin-process buckets held at the end: ${memory.size}`);
await redis.close();
await memory.close();
