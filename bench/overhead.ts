/**
 * Overhead of Tollgate over calling the upstream directly, on loopback:
 *   direct      POST the fake upstream's /v1/chat/completions
 *   402 path    POST Tollgate without payment (analyse, route, price, sign quote, challenge)
 *   paid        POST Tollgate with a fresh x402 payment (local checks, ledger reserve, facilitator
 *               verify + settle on the hardhat devnet, upstream call, ledger writes), under
 *               `exact` (EIP-3009) and `upto` (Permit2) alternately in one loop
 * The gateway runs as a child process (as `npm start` runs it, zero-config devnet, OPENAI_BASE_URL at
 * the fake); this process drives one connection, alternating targets, and prints p50/p99.
 *
 *   npx tsx bench/overhead.ts [--iterations 400] [--paid 100]
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { PERMIT2_ADDRESS, toClientEvmSigner } from "@x402/evm";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { createPublicClient, createWalletClient, erc20Abi, http as viemHttp, maxUint256 } from "viem";
import { devnetChain } from "../src/devnet/chain.ts";
import { Agent, request } from "undici";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { base64Json, signAuthorization } from "../test/support/sign-payment.ts";
import { startBenchUpstream } from "./fake-upstream.ts";
import { gatewayNodeArgs } from "./gateway-command.ts";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "400" }, paid: { type: "string", default: "100" } } });
const ITERATIONS = Number(values.iterations);
const PAID = Number(values.paid);
const PORT = 18_402;
const gatewayUrl = `http://127.0.0.1:${PORT}`;
const dispatcher = new Agent({ keepAliveTimeout: 60_000, connections: 1 });
const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Write a haiku about tolls" }], max_tokens: 64 });

async function post(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; ms: number }> {
  const started = performance.now();
  const res = await request(url, { method: "POST", dispatcher, headers: { "content-type": "application/json", ...headers }, body });
  await res.body.text();
  return { status: res.statusCode, headers: res.headers, ms: performance.now() - started };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(name: string, samples: number[]): { name: string; p50: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { name, p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

async function waitForGateway(child: ReturnType<typeof spawn>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    const ok = await fetch(`${gatewayUrl}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("gateway did not become ready");
}

const DevInfo = z.object({ rpcUrl: z.string(), asset: z.string(), payTo: z.string(), demoAgent: z.object({ privateKey: z.string() }) });

/** Upto payments signed by the official client (outside the timed region); the agent approves Permit2 once. */
async function uptoSigner(info: z.infer<typeof DevInfo>, agent: ReturnType<typeof privateKeyToAccount>) {
  const chain = devnetChain(info.rpcUrl);
  const publicClient = createPublicClient({ chain, transport: viemHttp(info.rpcUrl) });
  const wallet = createWalletClient({ account: agent, chain, transport: viemHttp(info.rpcUrl) });
  const hash = await wallet.writeContract({ address: info.asset as `0x${string}`, abi: erc20Abi, functionName: "approve", args: [PERMIT2_ADDRESS, maxUint256] });
  await publicClient.waitForTransactionReceipt({ hash });
  const client = new x402Client().register("eip155:84532", new UptoEvmScheme(toClientEvmSigner(agent, publicClient)));
  client.setSpendControls({ allowedAssets: [{ network: "eip155:84532", asset: info.asset }] });
  return async (required: PaymentRequired): Promise<string> => base64Json(await client.createPaymentPayload({ ...required, accepts: required.accepts.filter((a) => a.scheme === "upto") }));
}

async function main(): Promise<void> {
  const upstream = await startBenchUpstream();
  const child = spawn(process.execPath, gatewayNodeArgs(process.cwd()), {
    env: { ...process.env, PORT: String(PORT), LOG_LEVEL: "warn", OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: upstream.url, DATA_DIR: mkdtempSync(join(tmpdir(), "tollgate-bench-")) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitForGateway(child);
    const info = DevInfo.parse(await (await fetch(`${gatewayUrl}/dev/info`)).json());
    const agent = privateKeyToAccount(info.demoAgent.privateKey as `0x${string}`);
    const signUpto = await uptoSigner(info, agent);

    // Warm-up: JIT, keep-alive sockets, the gateway's first ledger writes.
    for (let i = 0; i < 50; i++) {
      await post(`${upstream.url}/chat/completions`);
      await post(`${gatewayUrl}/v1/chat/completions`);
    }

    const direct: number[] = [];
    const challenge: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      direct.push((await post(`${upstream.url}/chat/completions`)).ms);
      const res = await post(`${gatewayUrl}/v1/chat/completions`);
      if (res.status !== 402) throw new Error(`expected 402, got ${res.status}`);
      challenge.push(res.ms);
    }

    const paid: number[] = [];
    const paidDirect: number[] = [];
    const overheadHeader: number[] = [];
    const stages: Record<string, number[]> = {};
    const upto: number[] = [];
    const uptoStages: Record<string, number[]> = {};
    for (let i = 0; i < PAID; i++) {
      const quote = await post(`${gatewayUrl}/v1/chat/completions`);
      const required = decodePaymentRequiredHeader(String(quote.headers["payment-required"]));
      const accepted = required.accepts.find((a) => a.scheme === "exact");
      if (accepted === undefined) throw new Error("no requirement");
      const signed = await signAuthorization(agent, { asset: info.asset as `0x${string}`, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount) });
      const header = base64Json({ x402Version: 2, accepted, payload: signed });
      paidDirect.push((await post(`${upstream.url}/chat/completions`)).ms);
      const res = await post(`${gatewayUrl}/v1/chat/completions`, { "PAYMENT-SIGNATURE": header });
      if (res.status !== 200) throw new Error(`paid call answered ${res.status}`);
      paid.push(res.ms);
      overheadHeader.push(Number(res.headers["x-tollgate-overhead-ms"]));
      collectStages(stages, res.headers["server-timing"]);

      const uptoHeader = await signUpto(decodePaymentRequiredHeader(String((await post(`${gatewayUrl}/v1/chat/completions`)).headers["payment-required"])));
      const uptoRes = await post(`${gatewayUrl}/v1/chat/completions`, { "PAYMENT-SIGNATURE": uptoHeader });
      if (uptoRes.status !== 200) throw new Error(`upto call answered ${uptoRes.status}`);
      upto.push(uptoRes.ms);
      collectStages(uptoStages, uptoRes.headers["server-timing"]);
    }

    const rows = [
      summary("direct upstream", direct),
      summary("402 challenge", challenge),
      summary("direct (paid run)", paidDirect),
      summary("paid call", paid),
      summary("paid: x-tollgate-overhead-ms", overheadHeader),
      summary("paid call, upto", upto),
    ];
    console.log(`\n${"target".padEnd(30)} ${"n".padStart(5)} ${"p50 ms".padStart(9)} ${"p99 ms".padStart(9)}`);
    for (const r of rows) console.log(`${r.name.padEnd(30)} ${String(r.n).padStart(5)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(9)}`);
    console.log("\npaid call stages (Server-Timing), p50 / p99 ms, exact | upto:");
    for (const [stage, samples] of Object.entries(stages)) {
      const r = summary(stage, samples);
      const u = summary(stage, uptoStages[stage] ?? []);
      console.log(`  ${stage.padEnd(22)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} | ${u.p50.toFixed(2).padStart(8)} ${u.p99.toFixed(2).padStart(8)}`);
    }
    const d = rows[0]!;
    const c = rows[1]!;
    const pd = rows[2]!;
    const p = rows[3]!;
    console.log(`\n402 path overhead over direct: p50 +${(c.p50 - d.p50).toFixed(2)} ms, p99 +${(c.p99 - d.p99).toFixed(2)} ms`);
    console.log(`paid call overhead over direct: p50 +${(p.p50 - pd.p50).toFixed(2)} ms, p99 +${(p.p99 - pd.p99).toFixed(2)} ms (includes facilitator verify + settle on the devnet)`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    upstream.server.close();
    await dispatcher.close();
  }
}

function collectStages(into: Record<string, number[]>, header: unknown): void {
  for (const part of String(header).split(",")) {
    const match = /^\s*(\w+);dur=([\d.]+)/.exec(part);
    if (match?.[1] !== undefined) (into[match[1]] ??= []).push(Number(match[2]));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
