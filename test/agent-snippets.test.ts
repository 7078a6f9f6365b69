import { execFile } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * Issue 17, items 4 and 6: the README's "Use it from your agent" snippets run as they stand, with
 * their real libraries, against a devnet gateway; and the simulator behind them answers tool
 * loops, JSON schemas and embeddings the way agents built on those libraries expect.
 */

const run = promisify(execFile);
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## Use it from your agent"), readme.indexOf("## Endpoints"));
const SNIPPETS = ["openai", "ai-sdk", "langchain", "axios"] as const;
const snippetFile = (name: string) => readFileSync(new URL(`../examples/snippets/${name}.ts`, import.meta.url), "utf8");

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway?.close();
});

const balanceOf = (address: `0x${string}`) =>
  gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });

describe("README, Use it from your agent", () => {
  it("holds every snippet file verbatim, the shared wallet first", () => {
    for (const name of ["wallet", ...SNIPPETS]) expect(section, name).toContain("```ts\n" + snippetFile(name) + "```\n");
    expect(section.indexOf(snippetFile("wallet"))).toBeLessThan(section.indexOf(snippetFile("openai")));
    for (const name of SNIPPETS) expect(snippetFile(name), name).toMatch(/apiKey: "unused"|wrapAxiosWithPayment/);
    expect(snippetFile("wallet")).toContain("setSpendControls({ allowedAssets:");
  });

  for (const name of SNIPPETS) {
    it(`runs examples/snippets/${name}.ts: it pays, settles and prints the answer`, { timeout: 180_000 }, async () => {
      const agent = gateway.dev.info.demoAgent.address;
      const before = { balance: await balanceOf(agent), calls: (await gateway.runtime.deps.ledger.wallet(agent))?.recent.length ?? 0 };
      const { stdout } = await run(process.execPath, ["--import", "tsx", `examples/snippets/${name}.ts`], {
        env: { ...process.env, TOLLGATE_URL: gateway.url },
        timeout: 150_000,
      });
      expect(stdout).toMatch(/^This is a simulated reply\. \w/);
      const recent = (await gateway.runtime.deps.ledger.wallet(agent, { recent: 50 }))?.recent ?? [];
      expect(recent.length).toBe(before.calls + 1);
      const row = recent[0];
      expect(row?.status).toBe("settled");
      expect(await balanceOf(agent)).toBe(before.balance - (row?.amount ?? 0n));
    });
  }
});

describe("npm run agent when the payment cannot be made", () => {
  it("prints the gateway URL, the cause chain under the openai client's 'Connection error.' and what to set", { timeout: 180_000 }, async () => {
    // A key but no AGENT_ASSET: x402's default assets do not include the devnet token (issue 17).
    const failure = await run(process.execPath, ["--import", "tsx", "examples/agent.ts", "--exact", "Hello"], {
      env: { ...process.env, TOLLGATE_URL: gateway.url, AGENT_PRIVATE_KEY: gateway.dev.info.demoAgent.privateKey },
      timeout: 150_000,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const lines = failure?.stderr.trim().split("\n") ?? [];
    expect(lines[0]).toBe(`agent failed (gateway ${gateway.url}): Connection error.`);
    expect(lines.some((line) => /^ {2}caused by: .*spendControls/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ {2}hint: .*AGENT_ASSET/);
  });

  it("names the URL it tried and why when no gateway listens there", { timeout: 180_000 }, async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));
    const failure = await run(process.execPath, ["--import", "tsx", "examples/agent.ts", "Hello"], { env: { ...process.env, TOLLGATE_URL: closed }, timeout: 150_000 }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`agent failed (gateway ${closed}): No AGENT_PRIVATE_KEY and ${closed}/dev/info is not reachable`);
    expect(failure?.stderr).toMatch(/caused by: fetch failed\n {2}caused by: .*ECONNREFUSED/);
  });
});

describe("the simulator under an agent's tool loop, JSON and embeddings (official openai client, paid)", () => {
  const client = () => {
    const paying = createPayingFetch({ privateKey: gateway.dev.info.demoAgent.privateKey, allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
    return new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", fetch: paying.fetch, maxRetries: 0 });
  };
  const Lookup = z.object({ city: z.string().min(1), unit: z.enum(["celsius", "fahrenheit"]) });
  const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: z.toJSONSchema(Lookup) as Record<string, unknown> } }];

  it("runs a tool loop: a call with valid arguments, then a text answer after the tool's result, streamed or not", async () => {
    const openai = client();
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Lisbon?" }];
    const first = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
    const toolCall = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    if (toolCall?.type !== "function") throw new Error("expected a function call");
    expect(Lookup.parse(JSON.parse(toolCall.function.arguments))).toEqual({ city: "Weather in Lisbon?", unit: "celsius" });

    const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, tools, stream: true });
    let args = "";
    for await (const chunk of stream) args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
    expect(args).toBe(toolCall.function.arguments);

    messages.push(first.choices[0]!.message, { role: "tool", tool_call_id: toolCall.id, content: "{\"celsius\":21}" });
    const answer = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
    expect(answer.choices[0]?.finish_reason).toBe("stop");
    expect(answer.choices[0]?.message.content).toMatch(/^This is a simulated reply/);
  });

  it("answers a json_schema response_format with a value of the schema", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Plan a trip" }],
      response_format: { type: "json_schema", json_schema: { name: "trip", strict: true, schema: z.toJSONSchema(z.object({ stops: z.array(z.string()).min(2), days: z.int().min(3) })) as Record<string, unknown> } },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ stops: ["Plan a trip", "Plan a trip"], days: 3 });
  });

  it("embeds with each model's real dimension", async () => {
    const openai = client();
    for (const [model, length] of [["text-embedding-3-small", 1536], ["text-embedding-3-large", 3072]] as const) {
      const { data } = await openai.embeddings.create({ model, input: "toll" });
      expect(data[0]?.embedding, model).toHaveLength(length);
    }
  });
});
