/**
 * Example agent: pays Tollgate per call with x402 through the official openai client.
 *
 *   npm run agent -- "Write a haiku about tolls"
 *   npm run agent -- --stream "Explain x402 in two sentences"
 *
 * Against the zero-config devnet it reads its key and the token from GET /dev/info. Elsewhere
 * set TOLLGATE_URL, AGENT_PRIVATE_KEY, and (for a non-default token) AGENT_ASSET.
 */
import OpenAI from "openai";
import { z } from "zod";
import { createPayingFetch } from "./paying-fetch.ts";

const DevInfo = z.object({
  network: z.string(),
  asset: z.string(),
  demoAgent: z.object({ address: z.string(), privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
});

const AgentEnv = z.object({
  TOLLGATE_URL: z.url().default("http://127.0.0.1:8402"),
  AGENT_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/).optional(),
  AGENT_NETWORK: z.string().default("eip155:84532"),
  AGENT_ASSET: z.string().optional(),
  AGENT_MODEL: z.string().default("auto"),
});

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stream = args.includes("--stream");
  const prompt = args.filter((a) => a !== "--stream").join(" ").trim() || "Write a haiku about tolls";
  const env = AgentEnv.parse(process.env);

  let privateKey = env.AGENT_PRIVATE_KEY as `0x${string}` | undefined;
  let allowedAsset = env.AGENT_ASSET === undefined ? undefined : { network: env.AGENT_NETWORK as `${string}:${string}`, asset: env.AGENT_ASSET };
  if (privateKey === undefined) {
    const res = await fetch(`${env.TOLLGATE_URL}/dev/info`).catch(() => undefined);
    if (res === undefined || !res.ok) {
      throw new Error(`No AGENT_PRIVATE_KEY and ${env.TOLLGATE_URL}/dev/info is not reachable: start the gateway with 'npm start' first`);
    }
    const info = DevInfo.parse(await res.json());
    privateKey = info.demoAgent.privateKey as `0x${string}`;
    allowedAsset = { network: info.network as `${string}:${string}`, asset: info.asset };
  }

  const paying = createPayingFetch(allowedAsset === undefined ? { privateKey } : { privateKey, allowedAsset });
  const openai = new OpenAI({ baseURL: `${env.TOLLGATE_URL}/v1`, apiKey: "x402-pays-instead", fetch: paying.fetch, maxRetries: 0 });
  const messages = [{ role: "user" as const, content: prompt }];
  console.log(`agent ${paying.address} asks: ${prompt}\n`);

  let headers: Headers;
  if (stream) {
    const { data, response } = await openai.chat.completions.create({ model: env.AGENT_MODEL, messages, stream: true }).withResponse();
    headers = response.headers;
    for await (const chunk of data) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
    process.stdout.write("\n");
  } else {
    const { data, response } = await openai.chat.completions.create({ model: env.AGENT_MODEL, messages }).withResponse();
    headers = response.headers;
    console.log(data.choices[0]?.message.content ?? "");
  }

  const receipt = paying.receipts.at(-1);
  console.log("");
  console.log(`model:       ${headers.get("x-tollgate-model")} (${headers.get("x-tollgate-provider")}, task ${headers.get("x-tollgate-task")}, strategy ${headers.get("x-tollgate-strategy")})`);
  console.log(`price:       ${headers.get("x-tollgate-price")} USDC`);
  console.log(`settlement:  ${receipt?.transaction ?? "(no receipt)"} on ${receipt?.network ?? "?"}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
