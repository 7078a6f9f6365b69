/**
 * Example agent: pays Tollgate per call with x402 through the official openai client.
 *
 *   npm run agent -- "Write a haiku about tolls"
 *   npm run agent -- --stream "Explain x402 in two sentences"
 *
 * Against the zero-config devnet it reads its key, the token and the RPC from GET /dev/info.
 * Elsewhere set TOLLGATE_URL, AGENT_PRIVATE_KEY, AGENT_RPC_URL (default: the network's public
 * RPC) and, for a non-default token, AGENT_ASSET. It pays with x402 `upto` where the 402 offers
 * it (charged the call's actual cost), else `exact`; `--exact` pays the quote with exact only.
 * Upto moves the token through Permit2: where the 402 declares eip2612GasSponsoring the official
 * client signs an EIP-2612 permit with its first payment; elsewhere approve Permit2 once first.
 */
import OpenAI from "openai";
import { createPublicClient, defineChain, http, type PublicClient } from "viem";
import { z } from "zod";
import { atomicToUsd } from "../src/lib/money.ts";
import { defaultUsdc } from "../src/payment/terms.ts";
import { AGENT_DEFAULT_URL } from "../src/start-banner.ts";
import { createPayingFetch } from "./paying-fetch.ts";

const DevInfo = z.object({
  rpcUrl: z.string(),
  network: z.string(),
  asset: z.string(),
  demoAgent: z.object({ address: z.string(), privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
});

const AgentEnv = z.object({
  TOLLGATE_URL: z.url().default(AGENT_DEFAULT_URL),
  AGENT_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/).optional(),
  AGENT_NETWORK: z.string().default("eip155:84532"),
  AGENT_ASSET: z.string().optional(),
  AGENT_RPC_URL: z.url().optional(),
  AGENT_MODEL: z.string().default("auto"),
});

/** The gateway this run talks to, for the failure report. */
let gatewayUrl: string | undefined;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stream = args.includes("--stream");
  const exactOnly = args.includes("--exact");
  const prompt = args.filter((a) => a !== "--stream" && a !== "--exact").join(" ").trim() || "Write a haiku about tolls";
  const env = AgentEnv.parse(process.env);
  gatewayUrl = env.TOLLGATE_URL;

  let privateKey = env.AGENT_PRIVATE_KEY as `0x${string}` | undefined;
  let allowedAsset = env.AGENT_ASSET === undefined ? undefined : { network: env.AGENT_NETWORK as `${string}:${string}`, asset: env.AGENT_ASSET };
  const chainId = Number(env.AGENT_NETWORK.split(":")[1]);
  let rpcUrl = env.AGENT_RPC_URL ?? ({ 84532: "https://sepolia.base.org", 8453: "https://mainnet.base.org" } as Record<number, string>)[chainId];
  if (privateKey === undefined) {
    const hint = "start the gateway with 'npm start' first, or set TOLLGATE_URL to where it listens (its start banner prints the command)";
    const res = await fetch(`${env.TOLLGATE_URL}/dev/info`).catch((cause: unknown) => {
      throw new Error(`No AGENT_PRIVATE_KEY and ${env.TOLLGATE_URL}/dev/info is not reachable: ${hint}`, { cause });
    });
    if (!res.ok) throw new Error(`No AGENT_PRIVATE_KEY and ${env.TOLLGATE_URL}/dev/info answered ${res.status}: ${hint}`);
    const info = DevInfo.parse(await res.json());
    privateKey = info.demoAgent.privateKey as `0x${string}`;
    allowedAsset = { network: info.network as `${string}:${string}`, asset: info.asset };
    rpcUrl = info.rpcUrl;
  }

  const token = (allowedAsset?.asset ?? defaultUsdc(chainId)?.address) as `0x${string}` | undefined;
  let upto: { publicClient: PublicClient } | undefined;
  if (!exactOnly && rpcUrl !== undefined && token !== undefined) {
    const chain = defineChain({ id: chainId, name: env.AGENT_NETWORK, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
    const publicClient = createPublicClient({ chain, transport: http(rpcUrl) }) as PublicClient;
    upto = { publicClient };
  }
  const paying = createPayingFetch({ privateKey, ...(allowedAsset === undefined ? {} : { allowedAsset }), ...(upto === undefined ? {} : { upto }) });
  const openai = new OpenAI({ baseURL: `${env.TOLLGATE_URL}/v1`, apiKey: "x402-pays-instead", fetch: paying.fetch, maxRetries: 0 });
  const messages = [{ role: "user" as const, content: prompt }];
  console.log(`agent ${paying.address} asks: ${prompt}\n`);

  let headers: Headers;
  let usage: { prompt_tokens: number; completion_tokens: number } | null | undefined;
  if (stream) {
    const { data, response } = await openai.chat.completions.create({ model: env.AGENT_MODEL, messages, stream: true }).withResponse();
    headers = response.headers;
    for await (const chunk of data) {
      process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
      usage ??= chunk.usage;
    }
    process.stdout.write("\n");
  } else {
    const { data, response } = await openai.chat.completions.create({ model: env.AGENT_MODEL, messages }).withResponse();
    headers = response.headers;
    usage = data.usage;
    console.log(data.choices[0]?.message.content ?? "");
  }

  const receipt = paying.receipts.at(-1);
  // Streams carry no cost headers after their first byte: the receipt says what settled.
  const charged = headers.get("x-tollgate-charged") ?? (receipt?.amount === undefined || receipt.amount === "" ? undefined : atomicToUsd(BigInt(receipt.amount)));
  console.log("");
  console.log(`model:       ${headers.get("x-tollgate-model")} (${headers.get("x-tollgate-provider")}, task ${headers.get("x-tollgate-task")}, strategy ${headers.get("x-tollgate-strategy")})`);
  console.log(`maximum:     ${headers.get("x-tollgate-price")} USDC`);
  console.log(`charged:     ${charged === undefined ? "(see the receipt)" : `${charged} USDC`}`);
  console.log(`usage:       ${usage == null ? "(not reported)" : `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens`}`);
  console.log(`settlement:  ${receipt?.transaction || "(no receipt)"} on ${receipt?.network ?? "?"}`);
}

/**
 * The error and every `cause` under it: the openai client reports a payment the x402 client
 * refused as `Connection error.`, and the reason is only in the chain.
 */
function failureReport(error: unknown, url: string | undefined): string {
  const lines = [`agent failed${url === undefined ? "" : ` (gateway ${url})`}: ${error instanceof Error ? error.message : String(error)}`];
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 10; depth++) {
    lines.push(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (lines.some((line) => line.includes("spendControls"))) {
    lines.push("  hint: the token is not one x402 pays in by default; set AGENT_ASSET to its address (GET /dev/info `asset` on the devnet)");
  }
  return lines.join("\n");
}

main().catch((error: unknown) => {
  console.error(failureReport(error, gatewayUrl));
  process.exit(1);
});
