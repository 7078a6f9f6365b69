/**
 * Tollgate side by side with Portkey's gateway (`@portkey-ai/gateway`), on the same loopback
 * OpenAI-compatible upstream, in one run:
 *   direct          the fake upstream itself (`bench/upstream-main.ts`, its own process)
 *   Portkey         `build/start-server.js` of the pinned package, provider openai, custom host
 *                   at the fake: a pure pass-through, the baseline for every ratio
 *   Tollgate 402    `node dist/main.js` with the flags `npm start` uses, zero config (devnet, in-process
 *                   facilitator), OPENAI_BASE_URL at the fake; unpaid requests
 *   Tollgate paid   the same gateway with a fresh pre-signed EIP-3009 authorization per call,
 *                   non-streaming and streaming; and once more with the facilitator in another
 *                   process, so the gateway's CPU is its own work only
 * Load phases (wrk, or autocannon when wrk is missing) alternate targets within each round;
 * CPU time and RSS come from /proc. Prints Markdown tables, writes bench/results/latest.json.
 * About 3.5 minutes with the defaults; --profile also writes bench/results/profile-latest.txt.
 *
 *   npm run bench
 *   npx tsx bench/compare.ts [--duration 8] [--warmup 5] [--rounds 3] [--connections 1,50]
 *     [--paid 150] [--streams 150] [--upstream-delay-ms 0] [--load wrk|autocannon] [--profile]
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { z } from "zod";
import { ENV_VARS } from "../src/config.ts";
import { autocannonDriver } from "./autocannon-driver.ts";
import { ChildProcesses, type BenchChild } from "./child-processes.ts";
import { readDevnetClock } from "./devnet-clock.ts";
import { timeFirstByte, type FirstByteRequest, type FirstByteSample } from "./first-byte.ts";
import { DEV_USDC_DOMAIN } from "../src/devnet/contracts.ts";
import { findFreePort as freePort } from "../src/devnet/hardhat.ts";
import { gatewayNodeArgs } from "./gateway-command.ts";
import type { LoadDriver, LoadResult, LoadSpec } from "./load-driver.ts";
import { percentiles } from "./percentiles.ts";
import { memory } from "./proc-stats.ts";
import { meterProcess, type ProcessUsage } from "./process-meter.ts";
import { formatSummary, readProfile, summariseProfile, type ProfileWindows, type TimeWindow } from "./profile-summary.ts";
import { fundAgent, payerFrom, presignPayments, readDevInfo, type Payer } from "./presigned-payments.ts";
import { formatReport } from "./report.ts";
import type { ComparisonResults, FirstByteFigures, LoadFigures, LoadTarget, PaidFigures, ProcessMemory } from "./results.ts";
import { parseServerTiming } from "./server-timing.ts";
import { evaluateTargets } from "./targets.ts";
import { wrkDriver } from "./wrk-driver.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);
/**
 * The peers (Portkey's gateway, autocannon) install into bench/peers/, not bench/: a node_modules
 * beside these scripts would shadow the gateway's own packages for them (Portkey brings zod 3).
 */
const PEERS_DIR = join(BENCH_DIR, "peers");
const PORTKEY_DIR = join(PEERS_DIR, "node_modules", "@portkey-ai", "gateway");

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "8" },
    warmup: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "1,50" },
    paid: { type: "string", default: "150" },
    streams: { type: "string", default: "150" },
    "upstream-delay-ms": { type: "string", default: "0" },
    load: { type: "string" },
    profile: { type: "boolean", default: false },
    out: { type: "string", default: join(BENCH_DIR, "results", "latest.json") },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "npm run bench -- [--duration S] [--warmup S] [--rounds N] [--connections 1,50] [--paid N] [--streams N]\n" +
      "                 [--upstream-delay-ms MS] [--load wrk|autocannon] [--profile] [--out FILE]\n" +
      "Method, figures and targets: bench/README.md\n",
  );
  process.exit(0);
}
const settings = {
  durationSeconds: Number(values.duration),
  warmupSeconds: Number(values.warmup),
  rounds: Number(values.rounds),
  connections: values.connections.split(",").map(Number),
  paidCalls: Number(values.paid),
  streamSamples: Number(values.streams),
  upstreamDelayMs: Number(values["upstream-delay-ms"]),
};
for (const [name, value] of Object.entries(settings)) {
  // A zero warm-up or upstream delay is fine; zero rounds, durations or samples measure nothing.
  const least = name === "warmupSeconds" || name === "upstreamDelayMs" ? 0 : 1;
  const ok = (Array.isArray(value) ? value : [value]).every((v) => Number.isInteger(v) && v >= least);
  if (!ok) throw new Error(`${name}: expected whole numbers >= ${least}, got ${String(value)}`);
}

const chatBody = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Write a haiku about tolls" }], max_tokens: 64 });
const streamBody = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Write a haiku about tolls" }], max_tokens: 64, stream: true });

const gatewayArgs = gatewayNodeArgs(REPO_ROOT);
const abort = new AbortController();
const scratch = mkdtempSync(join(tmpdir(), "tollgate-compare-"));
const children = new ChildProcesses(scratch);
/** One keep-alive connection per origin for the harness's own sequential calls. */
const dispatcher = new Agent({ keepAliveTimeout: 60_000, connections: 1 });

function log(line: string): void {
  process.stderr.write(`[compare] ${line}\n`);
}

function checkAborted(): void {
  if (abort.signal.aborted) throw new Error("interrupted");
}

/** Polls `url` until it answers 2xx; fails early, with the child's log, if the child exits. */
async function waitForHttp(child: BenchChild, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    checkAborted();
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it was ready; its log ends:\n${children.tail(child)}`);
    }
    const ok = await request(url, { dispatcher }).then(
      async (res) => {
        await res.body.text();
        return res.statusCode >= 200 && res.statusCode < 300;
      },
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms; its log ends:\n${children.tail(child)}`);
}

/** The environment minus every variable Tollgate reads, so the caller's shell cannot change the setup. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !ENV_VARS.includes(name)));
}

async function startTollgate(name: string, env: Record<string, string>, profileDir: string | undefined): Promise<{ child: BenchChild; url: string }> {
  const port = await freePort();
  const profile = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  const child = children.spawn(name, process.execPath, [...profile, ...gatewayArgs], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), PORT: String(port), LOG_LEVEL: "warn", DATA_DIR: mkdtempSync(join(scratch, `${name}-data-`)), ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${url}/readyz`, 120_000);
  return { child, url };
}

interface Target {
  name: LoadTarget;
  child: BenchChild;
  spec: Omit<LoadSpec, "connections" | "durationSeconds">;
}

/** One request to check a target answers as expected before load is put on it. */
async function probe(target: Target): Promise<void> {
  const res = await request(target.spec.url, { method: "POST", dispatcher, headers: { "content-type": "application/json", ...target.spec.headers }, body: target.spec.body });
  const text = await res.body.text();
  if (res.statusCode !== target.spec.expectStatus) throw new Error(`${target.name} answered ${res.statusCode}, expected ${target.spec.expectStatus}: ${text.slice(0, 300)}`);
  if (target.spec.expectStatus === 200 && !text.includes("A toll for every call.")) throw new Error(`${target.name} did not return the upstream's completion: ${text.slice(0, 300)}`);
}

async function loadPhase(driver: LoadDriver, target: Target, connections: number, durationSeconds: number): Promise<{ result: LoadResult; usage: ProcessUsage; window: TimeWindow }> {
  checkAborted();
  const meter = meterProcess(target.child.pid);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await driver.run({ ...target.spec, connections, durationSeconds }, abort.signal);
  const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  const usage = meter.stop();
  log(
    `${target.name.padEnd(13)} c=${String(connections).padEnd(3)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.latencyMs.p50.toFixed(2)} ms  p99 ${result.latencyMs.p99.toFixed(2)} ms  CPU ${((1000 * usage.cpuSeconds) / Math.max(1, result.requests)).toFixed(3)} ms/req  RSS ${usage.peakRssMb.toFixed(0)} MB${result.unexpectedStatus + result.socketErrors > 0 ? `  (${result.unexpectedStatus} bad status, ${result.socketErrors} socket errors)` : ""}`,
  );
  return { result, usage, window };
}

interface PaidRun {
  figures: PaidFigures;
  window: TimeWindow;
  calls: number;
}

/** Paid non-streaming calls one at a time, each preceded by a direct upstream call for reference. */
async function paidPhase(variant: PaidFigures["variant"], gateway: { child: BenchChild; url: string }, payer: Payer, directUrl: string, count: number): Promise<PaidRun> {
  checkAborted();
  // Warm-up: JIT, keep-alive sockets, the first ledger writes.
  for (const header of await presignPayments(gateway.url, chatBody, payer, 10)) await paidCall(gateway.url, header);
  const headers = await presignPayments(gateway.url, chatBody, payer, count);
  const total: number[] = [];
  const direct: number[] = [];
  const excluding: number[] = [];
  const stages: Record<string, number[]> = {};
  const meter = meterProcess(gateway.child.pid);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  for (const header of headers) {
    checkAborted();
    const started = performance.now();
    const res = await request(directUrl, { method: "POST", dispatcher, headers: { "content-type": "application/json" }, body: chatBody });
    await res.body.text();
    direct.push(performance.now() - started);
    const paid = await paidCall(gateway.url, header);
    total.push(paid.ms);
    excluding.push(paid.ms - (paid.stages.facilitator_verify ?? 0) - (paid.stages.settle ?? 0));
    for (const [stage, ms] of Object.entries(paid.stages)) (stages[stage] ??= []).push(ms);
  }
  const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  const usage = meter.stop();
  const excludingMs = percentiles(excluding);
  const directMs = percentiles(direct);
  const figures: PaidFigures = {
    variant,
    totalMs: percentiles(total),
    directMs,
    stagesMs: Object.fromEntries(Object.entries(stages).map(([stage, samples]) => [stage, percentiles(samples)])),
    excludingFacilitatorMs: excludingMs,
    overheadExcludingFacilitatorP50Ms: excludingMs.p50 - directMs.p50,
    cpuSecondsPer1000: (1000 * usage.cpuSeconds) / headers.length,
    peakRssMb: usage.peakRssMb,
  };
  log(
    `paid (${variant}) n=${headers.length}: total p50 ${figures.totalMs.p50.toFixed(2)} ms, excl. facilitator p50 ${excludingMs.p50.toFixed(2)} ms, direct p50 ${directMs.p50.toFixed(2)} ms, CPU ${figures.cpuSecondsPer1000.toFixed(3)} ms/call`,
  );
  return { figures, window, calls: headers.length };
}

async function paidCall(gatewayUrl: string, paymentHeader: string): Promise<{ ms: number; stages: Record<string, number> }> {
  const started = performance.now();
  const res = await request(`${gatewayUrl}/v1/chat/completions`, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": paymentHeader },
    body: chatBody,
  });
  const text = await res.body.text();
  const ms = performance.now() - started;
  if (res.statusCode !== 200) throw new Error(`paid call answered ${res.statusCode}: ${text.slice(0, 300)}`);
  if (res.headers["payment-response"] === undefined) throw new Error("paid call has no PAYMENT-RESPONSE (settlement did not complete before the response)");
  const timing = res.headers["server-timing"];
  return { ms, stages: parseServerTiming(typeof timing === "string" ? timing : undefined) };
}

interface StreamTarget {
  name: FirstByteFigures["target"];
  child: BenchChild;
  request: () => FirstByteRequest;
  check: (sample: FirstByteSample) => void;
}

/** Time to first body byte of a streamed completion, alternating targets one request at a time. */
async function firstBytePhase(targets: StreamTarget[], samples: number): Promise<{ figures: FirstByteFigures[]; window: TimeWindow }> {
  for (let i = 0; i < 10; i++) for (const target of targets) target.check(await timeFirstByte(target.request()));
  const collected = new Map<StreamTarget, FirstByteSample[]>(targets.map((t) => [t, []]));
  const meters = targets.map((t) => meterProcess(t.child.pid));
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  for (let i = 0; i < samples; i++) {
    checkAborted();
    for (const target of targets) {
      const sample = await timeFirstByte(target.request());
      target.check(sample);
      collected.get(target)?.push(sample);
    }
  }
  const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  const usages = meters.map((m) => m.stop());
  const figures = targets.map((target, index): FirstByteFigures => {
    const list = collected.get(target) ?? [];
    const result: FirstByteFigures = {
      target: target.name,
      firstByteMs: percentiles(list.map((s) => s.firstByteMs)),
      totalMs: percentiles(list.map((s) => s.totalMs)),
      cpuSecondsPer1000: (1000 * (usages[index]?.cpuSeconds ?? Number.NaN)) / Math.max(1, list.length),
      peakRssMb: usages[index]?.peakRssMb ?? Number.NaN,
    };
    if (target.name === "tollgate_paid_stream") {
      const stages = list.map((s) => parseServerTiming(s.headers["server-timing"]));
      result.firstByteExcludingFacilitatorMs = percentiles(list.map((s, j) => s.firstByteMs - (stages[j]?.facilitator_verify ?? 0)));
      const names = [...new Set(stages.flatMap((s) => Object.keys(s)))];
      result.stagesMs = Object.fromEntries(names.map((name) => [name, percentiles(stages.map((s) => s[name] ?? 0))]));
    }
    log(`stream ${target.name.padEnd(21)} TTFB p50 ${result.firstByteMs.p50.toFixed(2)} ms  p99 ${result.firstByteMs.p99.toFixed(2)} ms`);
    return result;
  });
  return { figures, window };
}

function streamCheck(name: string, needsReceipt: boolean): (sample: FirstByteSample) => void {
  return (sample) => {
    if (sample.status !== 200 || !sample.body.includes("A toll for every call.") || !sample.body.includes("data: [DONE]")) {
      throw new Error(`${name} stream answered ${sample.status}: ${sample.body.slice(0, 300)}`);
    }
    if (needsReceipt && !sample.body.includes(": PAYMENT-RESPONSE ")) throw new Error(`${name} stream ended without a settlement receipt: ${sample.body.slice(-300)}`);
  };
}

function pickDriver(): LoadDriver {
  const wanted = values.load;
  const hasWrk = (() => {
    try {
      execFileSync("wrk", ["-v"], { stdio: "ignore" });
      return true;
    } catch (error) {
      // `wrk -v` prints its version and exits 1; only a missing binary is ENOENT.
      return !(error instanceof Error && "code" in error && error.code === "ENOENT");
    }
  })();
  if (wanted === "autocannon" || (wanted === undefined && !hasWrk)) {
    if (wanted === undefined) {
      log("wrk is not installed (Debian: apt-get install -y wrk); falling back to autocannon, which costs more CPU per request, so");
      log("req/s are lower than with wrk and latencies are whole milliseconds: compare such runs only with each other.");
    }
    return autocannonDriver(join(PEERS_DIR, "node_modules", "autocannon", "autocannon.js"));
  }
  if (!hasWrk) throw new Error("--load wrk: wrk is not installed (Debian: apt-get install -y wrk)");
  return wrkDriver(scratch);
}

const PortkeyPackage = z.object({ version: z.string() });

async function main(): Promise<void> {
  if (!existsSync(join(PORTKEY_DIR, "build", "start-server.js"))) {
    throw new Error(`Portkey's gateway is not installed in ${PORTKEY_DIR}: run npm --prefix bench/peers ci (npm run bench does)`);
  }
  const driver = pickDriver();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const portkeyVersion = PortkeyPackage.parse(JSON.parse(readFileSync(join(PORTKEY_DIR, "package.json"), "utf8"))).version;
  const profileDir = values.profile ? join(scratch, "profiles") : undefined;
  log(`scratch dir (child logs${profileDir === undefined ? "" : ", CPU profiles"}): ${scratch}`);

  // (a) the upstream, its own process.
  const upstreamPort = await freePort();
  const upstreamChild = children.spawn("upstream", process.execPath, ["--import", "tsx", "bench/upstream-main.ts", "--port", String(upstreamPort), "--delay-ms", String(settings.upstreamDelayMs)], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
  });
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/v1`;
  await waitForHttp(upstreamChild, `${upstreamUrl}/models`, 30_000);

  // (b) Portkey, headless (no log UI) and in production mode: its leanest configuration.
  const portkeyPort = await freePort();
  const portkeyChild = children.spawn("portkey", process.execPath, [join(PORTKEY_DIR, "build", "start-server.js"), `--port=${portkeyPort}`, "--headless"], {
    cwd: PEERS_DIR,
    env: { ...cleanEnv(), NODE_ENV: "production" },
  });
  const portkeyUrl = `http://127.0.0.1:${portkeyPort}`;
  await waitForHttp(portkeyChild, `${portkeyUrl}/`, 30_000);
  const portkeyHeaders = { "x-portkey-provider": "openai", "x-portkey-custom-host": upstreamUrl, Authorization: "Bearer sk-fake" };

  // (c) Tollgate, zero config: devnet, in-process facilitator, SQLite; gpt-4o-mini at the fake.
  log("starting Tollgate (devnet, in-process facilitator)...");
  const tollgate = await startTollgate("tollgate", { OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: upstreamUrl }, profileDir === undefined ? undefined : join(profileDir, "tollgate"));
  const info = await readDevInfo(tollgate.url);
  const payer = payerFrom(info);
  await fundAgent(tollgate.url, info.demoAgent.address);

  const targets: Target[] = [
    { name: "direct", child: upstreamChild, spec: { url: `${upstreamUrl}/chat/completions`, headers: {}, body: chatBody, expectStatus: 200 } },
    { name: "portkey", child: portkeyChild, spec: { url: `${portkeyUrl}/v1/chat/completions`, headers: portkeyHeaders, body: chatBody, expectStatus: 200 } },
    { name: "tollgate_402", child: tollgate.child, spec: { url: `${tollgate.url}/v1/chat/completions`, headers: {}, body: chatBody, expectStatus: 402 } },
  ];
  for (const target of targets) await probe(target);

  log(`warm-up: ${settings.warmupSeconds} s per target`);
  if (settings.warmupSeconds > 0) for (const target of targets) await loadPhase(driver, target, Math.max(...settings.connections), settings.warmupSeconds);

  const rounds = new Map<string, Array<{ result: LoadResult; usage: ProcessUsage }>>();
  const challengeWindows: TimeWindow[] = [];
  let challengeRequests = 0;
  for (let round = 1; round <= settings.rounds; round++) {
    for (const connections of settings.connections) {
      for (const target of targets) {
        const phase = await loadPhase(driver, target, connections, settings.durationSeconds);
        const key = `${target.name}/${connections}`;
        rounds.set(key, [...(rounds.get(key) ?? []), phase]);
        if (target.name === "tollgate_402") {
          challengeWindows.push(phase.window);
          challengeRequests += phase.result.requests;
        }
      }
    }
  }

  const load: LoadFigures[] = [];
  for (const connections of settings.connections) {
    for (const target of targets) {
      const phases = rounds.get(`${target.name}/${connections}`) ?? [];
      const requests = phases.reduce((sum, p) => sum + p.result.requests, 0);
      const seconds = phases.reduce((sum, p) => sum + p.result.seconds, 0);
      const mean = (pick: (p: (typeof phases)[number]) => number) => phases.reduce((sum, p) => sum + pick(p), 0) / phases.length;
      load.push({
        target: target.name,
        connections,
        requests,
        requestsPerSecond: requests / seconds,
        p50Ms: mean((p) => p.result.latencyMs.p50),
        p99Ms: mean((p) => p.result.latencyMs.p99),
        cpuSecondsPer1000: (1000 * phases.reduce((sum, p) => sum + p.usage.cpuSeconds, 0)) / requests,
        peakRssMb: Math.max(...phases.map((p) => p.usage.peakRssMb)),
        unexpectedStatus: phases.reduce((sum, p) => sum + p.result.unexpectedStatus, 0),
        socketErrors: phases.reduce((sum, p) => sum + p.result.socketErrors, 0),
        rounds: phases.map((p, index) => ({
          round: index + 1,
          requests: p.result.requests,
          seconds: p.result.seconds,
          requestsPerSecond: p.result.requestsPerSecond,
          p50Ms: p.result.latencyMs.p50,
          p99Ms: p.result.latencyMs.p99,
          cpuSeconds: p.usage.cpuSeconds,
          peakRssMb: p.usage.peakRssMb,
        })),
      });
    }
  }

  // Paid calls with the in-process facilitator (the zero-config set-up).
  const paidInProcess = await paidPhase("in_process_facilitator", tollgate, payer, `${upstreamUrl}/chat/completions`, settings.paidCalls);

  // Streaming: direct, Portkey and a paid Tollgate stream, alternating.
  checkAborted();
  const streamPayments = await presignPayments(tollgate.url, streamBody, payer, settings.streamSamples + 10);
  const stream = await firstBytePhase(
    [
      { name: "direct", child: upstreamChild, request: () => ({ url: `${upstreamUrl}/chat/completions`, headers: {}, body: streamBody }), check: streamCheck("direct", false) },
      { name: "portkey", child: portkeyChild, request: () => ({ url: `${portkeyUrl}/v1/chat/completions`, headers: portkeyHeaders, body: streamBody }), check: streamCheck("Portkey", false) },
      {
        name: "tollgate_paid_stream",
        child: tollgate.child,
        request: () => {
          const header = streamPayments.shift();
          if (header === undefined) throw new Error("ran out of pre-signed stream payments");
          return { url: `${tollgate.url}/v1/chat/completions`, headers: { "PAYMENT-SIGNATURE": header }, body: streamBody };
        },
        check: streamCheck("Tollgate", true),
      },
    ],
    settings.streamSamples,
  );

  // Paid calls through a second Tollgate whose facilitator is the first one's /facilitator API:
  // the x402.org set-up, and the only way to read the gateway's own CPU per paid call.
  log("starting Tollgate with a separate facilitator...");
  const remote = await startTollgate(
    "tollgate-remote-facilitator",
    {
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: upstreamUrl,
      NETWORK: "eip155:84532",
      PAY_TO: info.payTo,
      ASSET: info.asset,
      ASSET_NAME: DEV_USDC_DOMAIN.name,
      ASSET_VERSION: DEV_USDC_DOMAIN.version,
      RPC_URL: info.rpcUrl,
      FACILITATOR_URL: info.facilitatorUrl,
      QUOTE_SECRET: randomBytes(32).toString("base64url"),
    },
    profileDir === undefined ? undefined : join(profileDir, "tollgate-remote"),
  );
  const paidRemote = await paidPhase("remote_facilitator", remote, payer, `${upstreamUrl}/chat/completions`, settings.paidCalls);

  // Peak VmRSS sampled during each process's load phases; VmHWM also counts start-up peaks.
  const loadPeak = (name: LoadTarget) => Math.max(...load.filter((l) => l.target === name).map((l) => l.peakRssMb));
  const memoryFigures: ProcessMemory[] = [
    { process: "upstream", peakRssUnderLoadMb: loadPeak("direct"), highWaterMarkMb: memory(upstreamChild.pid).hwmMb },
    { process: "portkey", peakRssUnderLoadMb: loadPeak("portkey"), highWaterMarkMb: memory(portkeyChild.pid).hwmMb },
    {
      process: "tollgate",
      peakRssUnderLoadMb: Math.max(loadPeak("tollgate_402"), paidInProcess.figures.peakRssMb, ...stream.figures.filter((x) => x.target === "tollgate_paid_stream").map((x) => x.peakRssMb)),
      highWaterMarkMb: memory(tollgate.child.pid).hwmMb,
    },
    { process: "tollgate (separate facilitator)", peakRssUnderLoadMb: paidRemote.figures.peakRssMb, highWaterMarkMb: memory(remote.child.pid).hwmMb },
  ];

  const devnet = await readDevnetClock(info.rpcUrl);
  log(`devnet: ${devnet.blocks} blocks, its clock ${devnet.aheadOfWallClockSeconds.toFixed(0)} s ahead of the wall clock`);
  await children.stopAll();

  const partial: Omit<ComparisonResults, "targets"> = {
    date: new Date().toISOString(),
    machine: { nproc: availableParallelism(), cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadTool: driver.tool, portkeyGateway: portkeyVersion, loadAverage: { start: loadAtStart, end: loadavg()[0] ?? Number.NaN } },
    settings,
    load,
    firstByte: stream.figures,
    paid: [paidInProcess.figures, paidRemote.figures],
    memory: memoryFigures,
    devnet,
  };
  const results: ComparisonResults = { ...partial, targets: evaluateTargets(partial) };
  process.stdout.write(`\n${formatReport(results)}\n`);

  if (profileDir === undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${values.out}`);
  } else {
    log("profiled run: figures are perturbed by the profiler and not written to the results file");
    const tollgatePhases: ProfileWindows = [
      { title: "Tollgate, 402 load phases", requests: challengeRequests, windows: challengeWindows },
      { title: "Tollgate, paid calls (in-process facilitator)", requests: paidInProcess.calls, windows: [paidInProcess.window] },
      { title: "Tollgate, paid streams (in-process facilitator)", requests: settings.streamSamples, windows: [stream.window] },
    ];
    const remotePhases: ProfileWindows = [{ title: "Tollgate, paid calls (separate facilitator)", requests: paidRemote.calls, windows: [paidRemote.window] }];
    const summaries = [...profileSections(join(profileDir, "tollgate"), tollgatePhases), ...profileSections(join(profileDir, "tollgate-remote"), remotePhases)].join("\n\n");
    const summaryPath = join(BENCH_DIR, "results", "profile-latest.txt");
    mkdirSync(dirname(summaryPath), { recursive: true });
    writeFileSync(summaryPath, `${summaries}\n`);
    process.stdout.write(`\n${summaries}\n`);
    log(`wrote ${summaryPath}; raw profiles in ${profileDir}`);
  }
}

/** Summaries of one process's profile per phase; also leaves windows.json beside it for profile-summary.ts. */
function profileSections(dir: string, phases: ProfileWindows): string[] {
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's
  // module hooks run on a thread of their own and get a profile too).
  const file = existsSync(dir) ? readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name)) : undefined;
  if (file === undefined) return [`no profile written in ${dir}`];
  writeFileSync(join(dir, "windows.json"), `${JSON.stringify(phases, null, 2)}\n`);
  const profile = readProfile(join(dir, file));
  return phases.map((phase) => formatSummary(`${phase.title} (${phase.requests} requests; ms/req = sampled ms / requests)`, summariseProfile(profile, phase.windows), phase.requests));
}

async function shutdown(code: number): Promise<never> {
  abort.abort();
  await children.stopAll().catch(() => undefined);
  await dispatcher.close().catch(() => undefined);
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything this run started...`);
    void shutdown(130);
  });
}
process.once("uncaughtException", (error) => {
  log(`uncaught: ${error.stack ?? error.message}`);
  void shutdown(1);
});

main().then(
  () => {
    // Child logs and ledgers are only worth keeping when something went wrong (or was profiled).
    if (!values.profile) rmSync(scratch, { recursive: true, force: true });
    return shutdown(0);
  },
  (error: unknown) => {
    if (!abort.signal.aborted) log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n[compare] child logs are in ${scratch}`);
    void shutdown(1);
  },
);
